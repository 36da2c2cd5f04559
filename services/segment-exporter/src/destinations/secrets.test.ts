import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSealed, loadSecretBox, mask, secretBox } from './secrets.js';

describe('destination secrets', () => {
  it('seal and open with the same key; another key or a changed byte is refused', () => {
    const box = secretBox(Buffer.alloc(32, 1));
    const sealed = box.seal('tok_live_123456');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('tok_live');
    expect(box.seal('tok_live_123456')).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed)).toBe('tok_live_123456');
    expect(() => secretBox(Buffer.alloc(32, 2)).open(sealed)).toThrow(/CDP_SECRETS_KEY/);
    const flipped = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}${sealed.slice(-1)}`;
    expect(() => box.open(flipped)).toThrow();
    expect(() => secretBox(Buffer.alloc(16))).toThrow(/32 bytes/);
  });

  it('takes CDP_SECRETS_KEY (hex or base64), else generates one key into the data dir, mode 0600', async () => {
    const hex = 'ab'.repeat(32);
    const a = await loadSecretBox({ envKey: hex });
    const b = await loadSecretBox({ envKey: Buffer.from(hex, 'hex').toString('base64') });
    expect(b.open(a.seal('x'))).toBe('x');
    const dir = await mkdtemp(join(tmpdir(), 'cdp-secrets-'));
    try {
      const first = await loadSecretBox({ dataDir: dir });
      const second = await loadSecretBox({ dataDir: dir });
      expect(second.open(first.seal('same key'))).toBe('same key');
      expect((await stat(join(dir, 'secrets.key'))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await expect(loadSecretBox({})).rejects.toMatchObject({ field: 'CDP_SECRETS_KEY' });
    expect(mask('whsec_0123456789abcdef')).toBe('****cdef');
    expect(mask('short')).toBe('****');
  });
});
