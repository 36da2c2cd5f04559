import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';

/** The built browser SDK, ready to serve: the script, its gzip and an ETag. */
export interface SdkScript {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

/** Wraps a script's bytes for serving (compressed once, not per request). */
export function sdkScriptFrom(body: Buffer): SdkScript {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, gzip: gzipSync(body, { level: 9 }), etag };
}

/**
 * Reads the built browser SDK (`@cdp/sdk-browser/bundle`). Returns undefined
 * when it has not been built, so the service still starts and says why.
 */
export async function loadSdkScript(): Promise<SdkScript | undefined> {
  let file: string;
  try {
    file = createRequire(import.meta.url).resolve('@cdp/sdk-browser/bundle');
  } catch {
    return undefined;
  }
  try {
    return sdkScriptFrom(await readFile(file));
  } catch {
    return undefined;
  }
}
