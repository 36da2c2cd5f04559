import { gunzipSync, inflateSync } from 'node:zlib';
import { CdpError } from '@cdp/core';

/**
 * Undoes the request's `Content-Encoding` (gzip or deflate, as Segment's and
 * RudderStack's server libraries send), never inflating past `maxBytes` so a
 * small compressed body cannot expand into a memory bomb.
 */
export function decodeBody(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return body;
  if (enc !== 'gzip' && enc !== 'x-gzip' && enc !== 'deflate') {
    throw new CdpError('CDP_ERR_INGEST_CONTENT_ENCODING', {
      field: 'content-encoding',
      message: `Content-Encoding ${enc} is not supported: send gzip, deflate or none`,
    });
  }
  try {
    const opts = { maxOutputLength: maxBytes };
    return enc === 'deflate' ? inflateSync(body, opts) : gunzipSync(body, opts);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new CdpError('CDP_ERR_INGEST_BODY_TOO_LARGE', {
        field: 'body',
        message: `The decompressed body is over ${maxBytes} bytes`,
      });
    }
    throw new CdpError('CDP_ERR_INGEST_CONTENT_ENCODING', {
      field: 'content-encoding',
      statusCode: 400,
      message: `The body is not valid ${enc} data`,
    });
  }
}

/**
 * Whether a body labelled `application/x-www-form-urlencoded` is really a JSON
 * document. RudderStack's Node SDK labels its (gzipped) JSON batches that
 * way; real form data is still refused.
 */
export function looksLikeJsonObject(body: Buffer): boolean {
  for (const byte of body) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte === 0x7b; // '{'
  }
  return false;
}
