import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

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

/** Calls the management API; throws with the API's code and message on an error status. */
export async function api<T>(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, {
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
  const text = await res.text();
  const json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  if (!res.ok) {
    const s = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
    throw new Error(
      `${res.status} ${s(json['code'])}: ${s(json['message'] ?? text)}${json['field'] ? ` (field: ${s(json['field'])})` : ''}`,
    );
  }
  return json as T;
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
