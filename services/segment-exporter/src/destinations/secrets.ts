/**
 * Secrets of destination configs (tokens, signing keys), encrypted at rest
 * with AES-256-GCM. The key is `CDP_SECRETS_KEY` (32 bytes, base64 or hex)
 * when set, which every process that reads destinations must share;
 * otherwise a key generated once into `<dataDir>/secrets.key` (mode 0600).
 * An encrypted value is `enc:v1:<iv>.<tag>.<ciphertext>` (base64url).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CdpError } from '@cdp/core';

const PREFIX = 'enc:v1:';

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

/** A box for a 32-byte key. */
export function secretBox(key: Buffer): SecretBox {
  if (key.length !== 32)
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      field: 'CDP_SECRETS_KEY',
      message: 'CDP_SECRETS_KEY must be 32 bytes (base64 or hex)',
    });
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return `${PREFIX}${[iv, c.getAuthTag(), ct].map((b) => b.toString('base64url')).join('.')}`;
    },
    open(sealed) {
      const [iv, tag, ct] = sealed.startsWith(PREFIX) ? sealed.slice(PREFIX.length).split('.') : [];
      try {
        const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv ?? '', 'base64url'));
        d.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
        return Buffer.concat([d.update(Buffer.from(ct ?? '', 'base64url')), d.final()]).toString(
          'utf8',
        );
      } catch (e) {
        throw new CdpError('CDP_ERR_CONFIG_INVALID', {
          field: 'CDP_SECRETS_KEY',
          message:
            'A destination secret does not decrypt with this key: every process must share CDP_SECRETS_KEY (or the data dir secrets.key)',
          cause: e,
        });
      }
    },
  };
}

export const isSealed = (v: unknown): v is string => typeof v === 'string' && v.startsWith(PREFIX);

function parseKey(raw: string): Buffer {
  const t = raw.trim();
  return /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
}

/** The box of `CDP_SECRETS_KEY`, or of the key in `dataDir` (generated the first time). */
export async function loadSecretBox(opts: {
  envKey?: string | undefined;
  dataDir?: string | undefined;
}): Promise<SecretBox> {
  if (opts.envKey) return secretBox(parseKey(opts.envKey));
  if (!opts.dataDir)
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      field: 'CDP_SECRETS_KEY',
      message: 'Set CDP_SECRETS_KEY (32 bytes, base64 or hex) to store destination secrets',
    });
  const file = join(opts.dataDir, 'secrets.key');
  try {
    return secretBox(parseKey(await readFile(file, 'utf8')));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(opts.dataDir, { recursive: true });
  const key = randomBytes(32);
  // wx: two processes starting at once do not overwrite each other's key.
  await writeFile(file, key.toString('base64'), { mode: 0o600, flag: 'wx' }).catch(
    async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    },
  );
  await chmod(file, 0o600);
  return secretBox(parseKey(await readFile(file, 'utf8')));
}

/** `****` and the last 4 characters (nothing of a short secret). */
export const mask = (v: string): string => (v.length > 8 ? `****${v.slice(-4)}` : '****');
