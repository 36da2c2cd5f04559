import { once } from 'node:events';
import { api, table, type ApiTarget } from './api-client.js';

/** An audience as a file holds it ("as code"): what `POST /v1/audiences` takes. */
export interface AudienceFileEntry {
  readonly name: string;
  readonly definition: unknown;
  readonly refresh?: unknown;
}

interface AudienceRun {
  readonly version: number;
  readonly status: string;
  readonly trigger: string;
  readonly startedAt: string;
  readonly size: number;
  readonly entered: number;
  readonly exited: number;
  readonly durationMs: number;
  readonly error: string;
  /** `full` or `incremental` (older servers: absent). */
  readonly mode?: string;
  /** People an incremental run evaluated (null on a full run). */
  readonly candidates?: number | null;
}

interface AudienceView {
  readonly name: string;
  readonly definition: { description?: string };
  readonly refreshSeconds: number;
  readonly version: number;
  readonly size: number;
  readonly computedAt: string | null;
  readonly lastRun: AudienceRun | null;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `cdp audiences apply` file contents: one audience `{name, definition,
 * refresh?}` or an array of them; each needs a name.
 */
export function audiencesInFile(parsed: unknown, file: string): AudienceFileEntry[] {
  const all = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  if (all.length === 0) throw new Error(`${file}: no audience in the file`);
  return all.map((a, i) => {
    const where = Array.isArray(parsed) ? `${file}[${i}]` : file;
    if (!isObject(a)) throw new Error(`${where}: an audience is an object {name, definition}`);
    if (typeof a['name'] !== 'string' || a['name'] === '')
      throw new Error(`${where}: every audience needs a name`);
    return a as unknown as AudienceFileEntry;
  });
}

/**
 * `cdp audiences preview` file contents as the preview's body: `{definition}`,
 * a whole audience `{name, definition, ...}`, or a bare definition `{conditions}`.
 */
export function previewBody(parsed: unknown, file: string): { definition: unknown } {
  if (isObject(parsed) && 'definition' in parsed) return { definition: parsed['definition'] };
  if (isObject(parsed) && 'conditions' in parsed) return { definition: parsed };
  throw new Error(`${file}: expected {definition}, {name, definition} or {conditions}`);
}

/**
 * Creates the audience, or replaces its definition (and refresh) when one by
 * that name exists (a 409 on create). A failure names the audience.
 */
export async function applyAudience(
  target: ApiTarget,
  a: AudienceFileEntry,
): Promise<{ action: 'created' | 'updated'; version: number }> {
  const at = (e: unknown): Error =>
    new Error(`${a.name}: ${e instanceof Error ? e.message : String(e)}`);
  try {
    const r = await api<{ audience: { version: number } }>(target, 'POST', '/v1/audiences', a);
    return { action: 'created', version: r.audience.version };
  } catch (e) {
    if (!(e instanceof Error && e.message.startsWith('409 '))) throw at(e);
  }
  try {
    const r = await api<{ audience: { version: number } }>(
      target,
      'PUT',
      `/v1/audiences/${encodeURIComponent(a.name)}`,
      { definition: a.definition, ...(a.refresh === undefined ? {} : { refresh: a.refresh }) },
    );
    return { action: 'updated', version: r.audience.version };
  } catch (e) {
    throw at(e);
  }
}

/**
 * Writes every member's person id, one a line, following `nextCursor` page
 * after page; answers how many.
 */
export async function writeMembers(
  target: ApiTarget,
  name: string,
  out: NodeJS.WritableStream,
  pageSize = 10_000,
): Promise<number> {
  let cursor: string | null = null;
  let n = 0;
  do {
    const q = new URLSearchParams({ limit: String(pageSize) });
    if (cursor !== null) q.set('cursor', cursor);
    const page: { members: { personId: string }[]; nextCursor: string | null } = await api(
      target,
      'GET',
      `/v1/audiences/${encodeURIComponent(name)}/members?${q.toString()}`,
    );
    if (page.members.length > 0 && !out.write(page.members.map((m) => `${m.personId}\n`).join('')))
      await once(out, 'drain');
    n += page.members.length;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return n;
}

const refreshText = (seconds: number): string => (seconds === 0 ? 'manual' : `${seconds}s`);

/** `cdp audiences list` output: one row per audience. */
export function audiencesTable(audiences: readonly AudienceView[]): string {
  return table(
    audiences.map((a) => ({
      name: a.name,
      size: a.size,
      refresh: refreshText(a.refreshSeconds),
      version: a.version,
      computedAt: a.computedAt,
      lastRun: a.lastRun ? `${a.lastRun.status} (version ${a.lastRun.version})` : null,
      description: a.definition.description,
    })),
  );
}

/** `cdp audiences runs` output: one row per run, newest first as the API answers. */
export function runsTable(runs: readonly AudienceRun[]): string {
  return table(
    runs.map((r) => ({
      version: r.version,
      status: r.status,
      trigger: r.trigger,
      mode: r.mode ?? null,
      candidates: r.candidates ?? null,
      startedAt: r.startedAt,
      durationMs: r.durationMs,
      size: r.size,
      entered: r.entered,
      exited: r.exited,
      error: r.error === '' ? null : r.error,
    })),
  );
}

/** One line for a run's answer. */
export function runSummary(name: string, r: AudienceRun): string {
  const how =
    r.mode === 'incremental'
      ? `, incremental: ${r.candidates ?? 0} re-evaluated`
      : r.mode === 'full'
        ? ', full'
        : '';
  return `${name}: version ${r.version} ${r.status}, ${r.size} member(s), ${r.entered} entered, ${r.exited} exited (${r.durationMs} ms${how})`;
}

/** What `POST /v1/audiences/:name/lookalike` answers, as the CLI reads it. */
export interface LookalikeAnswer {
  readonly audience: { readonly name: string };
  readonly lookalike: {
    readonly seedAudience: string;
    readonly ratio: number;
    readonly seedSize: number;
    readonly eligible: number;
    readonly selected: number;
    readonly exclude: readonly string[];
    readonly model: {
      readonly iterations: number;
      readonly topWeights: readonly { readonly column: string; readonly weight: number }[];
    };
    readonly ms: { readonly total: number };
  };
  readonly run: AudienceRun;
}

/** `cdp audiences lookalike` output: what was built, what weighs most, and the first run. */
export function lookalikeText(r: LookalikeAnswer): string {
  const l = r.lookalike;
  const pct = Math.round(l.ratio * 1000) / 10;
  const lines = [
    `built ${r.audience.name}: the ${pct}% of ${l.eligible} eligible people most like ${l.seedAudience} (${l.seedSize} seed members with data${l.exclude.length > 0 ? `, excluding ${l.exclude.join(', ')}` : ''}): ${l.selected} people (${l.ms.total} ms, ${l.model.iterations} Newton iterations)`,
    `weighs most: ${l.model.topWeights
      .slice(0, 5)
      .map((w) => `${w.column} ${w.weight > 0 ? '+' : ''}${w.weight.toFixed(2)}`)
      .join(', ')}`,
    runSummary(r.audience.name, r.run),
  ];
  return lines.join('\n');
}

/** `cdp audiences preview` output: size, by channel and RFM group, the sample. */
export function previewText(r: {
  size: number;
  sample: readonly {
    personId: string;
    identifiers: readonly { type: string; value: string }[];
    tags: Readonly<Record<string, string>>;
  }[];
  byChannel: Readonly<Record<string, number>>;
  byRfmGroup: Readonly<Record<string, number>>;
  ms: number;
}): string {
  const counts = (key: string, m: Readonly<Record<string, number>>): string =>
    table(Object.entries(m).map(([k, people]) => ({ [key]: k, people })));
  return [
    `${r.size} people (${r.ms} ms)`,
    '',
    'by channel',
    counts('channel', r.byChannel),
    '',
    'by RFM group',
    counts('rfm_group', r.byRfmGroup),
    '',
    `sample (${r.sample.length})`,
    table(
      r.sample.map((s) => ({
        personId: s.personId,
        identifiers: s.identifiers.map((i) => `${i.type}:${i.value}`).join(' '),
        tags: Object.entries(s.tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      })),
    ),
  ].join('\n');
}
