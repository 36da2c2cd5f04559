import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** Where the CLI finds a running platform, and the admin token to use. */
export interface ApiTarget {
  readonly url: string;
  readonly token: string;
}

/** `--url`/`CDP_URL` (default http://127.0.0.1:$PORT) and `--token`/`CDP_ADMIN_TOKEN`, else credentials.json. */
export async function resolveTarget(
  opts: { url?: string | undefined; token?: string | undefined },
  env: NodeJS.ProcessEnv,
): Promise<ApiTarget> {
  const url = (opts.url ?? env['CDP_URL'] ?? `http://127.0.0.1:${env['PORT'] ?? '8080'}`).replace(
    /\/$/,
    '',
  );
  let token = opts.token ?? env['CDP_ADMIN_TOKEN'];
  if (token === undefined || token === '') {
    const path = join(env['CDP_DATA_DIR'] ?? './.cdp-data', 'credentials.json');
    try {
      token = (JSON.parse(await readFile(path, 'utf8')) as { adminToken?: string }).adminToken;
    } catch {
      throw new Error(
        `No admin token: pass --token, set CDP_ADMIN_TOKEN, or run from the folder whose ${path} the server wrote`,
      );
    }
  }
  if (!token) throw new Error('No admin token found');
  return { url, token };
}

async function send(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  try {
    return await fetch(`${target.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new Error(
      `Cannot reach ${target.url} (${(err as Error).message}); is \`cdp start\` running?`,
    );
  }
}

/** The API's error answer as an Error: status, code, message and field. */
function apiError(status: number, text: string): Error {
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = {};
  }
  const s = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  return new Error(
    `${status} ${s(json['code'])}: ${s(json['message'] ?? text)}${json['field'] ? ` (field: ${s(json['field'])})` : ''}`,
  );
}

/** Calls the management API; throws with the API's code and message on an error status. */
export async function api<T>(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await send(target, method, path, body);
  const text = await res.text();
  if (!res.ok) throw apiError(res.status, text);
  return (text === '' ? {} : JSON.parse(text)) as T;
}

/**
 * GETs a streamed answer (NDJSON) and copies it to `out` as it arrives;
 * throws with the API's code and message on an error status.
 */
export async function apiStream(
  target: ApiTarget,
  path: string,
  out: NodeJS.WritableStream,
): Promise<void> {
  const res = await send(target, 'GET', path);
  if (!res.ok) throw apiError(res.status, await res.text());
  if (res.body === null) return;
  for await (const chunk of Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)) {
    if (!out.write(chunk as Buffer)) await once(out, 'drain');
  }
}

/**
 * `cdp persons split` arguments: `<type>=<value>` each, split at the first
 * `=` (values may hold more; types never do), as the split body's identifiers.
 */
export function parseIdentifierArgs(args: readonly string[]): { type: string; value: string }[] {
  if (args.length === 0) throw new Error('give at least one <type>=<value> to split off');
  return args.map((a) => {
    const i = a.indexOf('=');
    if (i < 1)
      throw new Error(
        `${a}: use <type>=<value>, e.g. anonymous_id=3f1c... or email=ada@example.com`,
      );
    return { type: a.slice(0, i), value: a.slice(i + 1) };
  });
}

/** One line for a split's answer. */
export function splitSummary(r: {
  from: string;
  oneId: string;
  moved: readonly { type: string; value: string }[];
  eventsMoved?: number;
}): string {
  const ids = r.moved.map((m) => `${m.type} ${m.value}`).join(', ');
  const events = r.eventsMoved === undefined ? '' : ` and ${r.eventsMoved} event(s)`;
  return `split ${r.from}: moved ${r.moved.length} identifier(s) (${ids})${events} to new person ${r.oneId}`;
}

/** One line for a delete's answer. */
export function deleteSummary(r: {
  deleted: string;
  retiredIds: readonly string[];
  eventsDeleted: number;
}): string {
  return `deleted person ${r.deleted}: ${r.eventsDeleted} event(s) erased, ids retired: ${r.retiredIds.join(', ')}`;
}

/** Renders rows as an aligned text table. */
export function table(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string =>
    v === null || v === undefined ? '' : typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
  const widths = cols.map((c) =>
    Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))),
  );
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => v.slice(0, widths[i]).padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(cols),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(cols.map((c) => cell(r[c])))),
  ].join('\n');
}

/** A number to 2 decimals; other values as text. */
export const fmt2 = (v: unknown): string =>
  typeof v === 'number'
    ? v.toFixed(2)
    : typeof v === 'string'
      ? v
      : v === null || v === undefined
        ? ''
        : (JSON.stringify(v) ?? '');

/** Rows as an aligned table with numbers to 2 decimals and right-aligned. */
export function numberTable(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const numeric = cols.map((c) => rows.every((r) => typeof r[c] === 'number' || r[c] == null));
  const cells = rows.map((r) => cols.map((c) => fmt2(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (vals: readonly string[]): string =>
    vals
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** `GET /v1/attribution` query string from CLI options (only those given). */
export function attributionQueryString(o: {
  conversion?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  lookback?: string | undefined;
  models?: string | undefined;
  classifier?: string | undefined;
  transform?: string | undefined;
}): string {
  const q = new URLSearchParams();
  const add = (k: string, v: string | undefined): void => {
    if (v !== undefined) q.set(k, v);
  };
  add('conversion', o.conversion);
  add('from', o.from);
  add('to', o.to);
  add('lookbackDays', o.lookback);
  add('models', o.models);
  add('classifier', o.classifier);
  add('transform', o.transform);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

interface AttributionAnswer {
  readonly totals: { conversions: number; value: number; nulls: number };
  readonly models: readonly { label: string }[];
  readonly channels: readonly {
    channel: string;
    credits: Readonly<Record<string, { conversions: number; value: number }>>;
  }[];
  readonly topPaths: readonly {
    label: string;
    conversions: number;
    value: number;
    nulls: number;
  }[];
}

/** `cdp attribution` output: one row per channel, conversions and value per model, then top paths. */
export function attributionTables(r: AttributionAnswer): string {
  const rows = r.channels.map((c) => {
    const row: Record<string, unknown> = { channel: c.channel };
    for (const m of r.models) {
      row[`${m.label} conv`] = c.credits[m.label]?.conversions ?? 0;
      row[`${m.label} value`] = c.credits[m.label]?.value ?? 0;
    }
    return row;
  });
  const paths = r.topPaths.slice(0, 10).map((p) => ({
    path: p.label,
    conversions: p.conversions,
    nulls: p.nulls,
    value: p.value,
  }));
  return [
    `conversions ${fmt2(r.totals.conversions)}, value ${fmt2(r.totals.value)}, non-converting ${fmt2(r.totals.nulls)}`,
    '',
    numberTable(rows),
    '',
    'top paths',
    numberTable(paths),
  ].join('\n');
}

/** `cdp funnel` output: one row per step. */
export function funnelTable(r: {
  steps: readonly {
    step: number;
    event: string;
    people: number;
    conversionFromPrevious: number;
    conversionFromFirst: number;
    medianSecondsFromPrevious: number | null;
  }[];
}): string {
  return numberTable(
    r.steps.map((s) => ({
      step: String(s.step),
      event: s.event,
      people: s.people,
      'from previous %': s.conversionFromPrevious * 100,
      'from first %': s.conversionFromFirst * 100,
      'median s': s.medianSecondsFromPrevious,
    })),
  );
}

/** `cdp paths` output: one row per edge. */
export function pathsTable(r: {
  edges: readonly { source: string; target: string; count: number }[];
}): string {
  return numberTable(r.edges.map((e) => ({ source: e.source, target: e.target, count: e.count })));
}

/** A JSON file's content; a missing argument or a bad file is an error naming it (`usage` says what was expected). */
export async function readJsonFile(file: string | undefined, usage: string): Promise<unknown> {
  if (!file) throw new Error(`usage: ${usage}`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
