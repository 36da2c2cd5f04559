import { CdpError } from '@cdp/core';
import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { translateKafkaError, type KafkaOperation } from './errors.js';

const protocol = (type: string, retriable: boolean): KafkaJSProtocolError =>
  new KafkaJSProtocolError({
    message: `broker said ${type}`,
    type,
    code: 0,
    retriable,
  } as unknown as string);
const exhausted = (cause: Error): KafkaJSNumberOfRetriesExceeded =>
  new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 1_000 });

describe('translateKafkaError', () => {
  const cases: {
    name: string;
    err: unknown;
    op: KafkaOperation;
    code: string;
    retryable: boolean;
  }[] = [
    {
      name: 'message too large',
      err: protocol('MESSAGE_TOO_LARGE', false),
      op: 'produce',
      code: 'CDP_ERR_BUS_MESSAGE_TOO_LARGE',
      retryable: false,
    },
    {
      name: 'record list too large',
      err: protocol('RECORD_LIST_TOO_LARGE', false),
      op: 'produce',
      code: 'CDP_ERR_BUS_MESSAGE_TOO_LARGE',
      retryable: false,
    },
    {
      name: 'request timeout while producing',
      err: new KafkaJSRequestTimeoutError('Request Produce(key: 0) timed out'),
      op: 'produce',
      code: 'CDP_ERR_INGEST_BACKPRESSURE',
      retryable: true,
    },
    {
      name: 'not enough replicas while producing',
      err: protocol('NOT_ENOUGH_REPLICAS', true),
      op: 'produce',
      code: 'CDP_ERR_INGEST_BACKPRESSURE',
      retryable: true,
    },
    {
      name: 'request timeout elsewhere',
      err: new KafkaJSRequestTimeoutError('timed out'),
      op: 'admin',
      code: 'CDP_ERR_BUS_UNAVAILABLE',
      retryable: true,
    },
    {
      name: 'connection refused',
      err: new KafkaJSConnectionError('connect ECONNREFUSED 127.0.0.1:9'),
      op: 'connect',
      code: 'CDP_ERR_BUS_UNAVAILABLE',
      retryable: true,
    },
    {
      name: 'retries exhausted on a lost connection',
      err: exhausted(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED')),
      op: 'produce',
      code: 'CDP_ERR_BUS_UNAVAILABLE',
      retryable: true,
    },
    {
      name: 'retries exhausted on no leader',
      err: exhausted(protocol('LEADER_NOT_AVAILABLE', true)),
      op: 'produce',
      code: 'CDP_ERR_BUS_UNAVAILABLE',
      retryable: true,
    },
    {
      name: 'topic authorisation',
      err: protocol('TOPIC_AUTHORIZATION_FAILED', false),
      op: 'produce',
      code: 'CDP_ERR_BUS_UNAVAILABLE',
      retryable: false,
    },
    {
      name: 'invalid topic',
      err: protocol('INVALID_TOPIC_EXCEPTION', false),
      op: 'admin',
      code: 'CDP_ERR_CONFIG_INVALID',
      retryable: false,
    },
    {
      name: 'other retriable kafkajs error',
      err: new KafkaJSError('something transient'),
      op: 'consume',
      code: 'CDP_ERR_BUS_UNAVAILABLE',
      retryable: true,
    },
    {
      name: 'non-retriable kafkajs error',
      err: new KafkaJSNonRetriableError('bad request'),
      op: 'admin',
      code: 'CDP_ERR_INTERNAL',
      retryable: false,
    },
    {
      name: 'plain error',
      err: new TypeError('oops'),
      op: 'produce',
      code: 'CDP_ERR_INTERNAL',
      retryable: false,
    },
  ];

  it.each(cases)('$name -> $code (retryable: $retryable)', ({ err, op, code, retryable }) => {
    const out = translateKafkaError(err, op);
    expect(out).toBeInstanceOf(CdpError);
    expect(out.code).toBe(code);
    expect(out.retryable).toBe(retryable);
    expect(out.cause).toBe(err);
    expect(out.message).toMatch(new RegExp(`^Kafka ${op} failed: `));
  });

  it('passes a CdpError through unchanged', () => {
    const e = new CdpError('CDP_ERR_BUS_CLOSED');
    expect(translateKafkaError(e, 'produce')).toBe(e);
  });

  it('names the innermost cause in the message', () => {
    const out = translateKafkaError(
      exhausted(new KafkaJSConnectionError('connect ECONNREFUSED 127.0.0.1:9')),
      'produce',
    );
    expect(out.message).toContain('ECONNREFUSED');
  });
});
