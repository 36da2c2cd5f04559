import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@cdp/core';
import { newAdminToken, newWriteKey } from './source.js';
import type { SourceRegistry } from './source-registry.js';

/** What `credentials.json` holds. */
export interface Credentials {
  readonly writeKey?: string;
  readonly adminToken: string;
}

export interface BootstrapResult {
  readonly adminToken: string;
  /** Set on the first start only: the default source's key, to print once. */
  readonly created?: { readonly writeKey: string; readonly sourceId: string };
  readonly credentialsPath: string;
}

async function readCredentials(path: string): Promise<Partial<Credentials> | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Partial<Credentials>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * First start: with no sources, create a default source (any browser origin
 * allowed, so a page can try it at once) and an admin token, and write both to
 * `$CDP_DATA_DIR/credentials.json` (mode 0600). Later starts read the admin
 * token from there unless `CDP_ADMIN_TOKEN` is set.
 */
export async function bootstrapCredentials(opts: {
  readonly dataDir: string;
  readonly sources: SourceRegistry;
  readonly adminToken?: string;
  readonly logger: Logger;
}): Promise<BootstrapResult> {
  const credentialsPath = join(opts.dataDir, 'credentials.json');
  const existing = await readCredentials(credentialsPath);
  let adminToken =
    opts.adminToken !== undefined && opts.adminToken !== ''
      ? opts.adminToken
      : existing?.adminToken;
  let created: BootstrapResult['created'];
  let writeKey = existing?.writeKey;
  if (opts.sources.list().length === 0) {
    writeKey = newWriteKey();
    const { source } = await opts.sources.create(
      { name: 'Default source', allowedOrigins: ['*'] },
      writeKey,
    );
    created = { writeKey, sourceId: source.id };
  }
  const mustWrite = adminToken === undefined || created !== undefined;
  adminToken ??= newAdminToken();
  if (mustWrite) {
    await mkdir(opts.dataDir, { recursive: true });
    const tmp = `${credentialsPath}.tmp`;
    const body: Credentials = writeKey === undefined ? { adminToken } : { writeKey, adminToken };
    await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, credentialsPath);
    opts.logger.info({ path: credentialsPath }, 'credentials_written');
  }
  return created ? { adminToken, created, credentialsPath } : { adminToken, credentialsPath };
}
