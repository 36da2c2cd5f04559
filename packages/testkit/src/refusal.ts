import { isCdpError } from '@cdp/core';

/**
 * The code and field of the `CdpError` that `p` rejects with, for tests that
 * check a refusal names the field; throws when `p` resolves or rejects with
 * something else.
 */
export async function refusal(p: Promise<unknown>): Promise<[string, string | undefined]> {
  try {
    await p;
  } catch (e) {
    if (isCdpError(e)) return [e.code, e.field];
    throw e;
  }
  throw new Error('expected a refusal, the call succeeded');
}
