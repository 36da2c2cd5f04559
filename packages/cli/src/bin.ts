#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isCdpError } from '@cdp/core';
import {
  api,
  apiStream,
  attributionQueryString,
  attributionTables,
  deleteSummary,
  funnelTable,
  parseIdentifierArgs,
  pathsTable,
  resolveTarget,
  splitSummary,
  table,
} from './api-client.js';
import {
  applyAudience,
  audiencesInFile,
  audiencesTable,
  lookalikeText,
  previewBody,
  previewText,
  runSummary,
  runsTable,
  writeMembers,
  type LookalikeAnswer,
} from './audiences.js';
import { DESTINATIONS_USAGE, destinationsCommand } from './destinations.js';
import { METRICS_USAGE, alertsCommand, metricsCommand } from './metrics.js';

const HELP = `cdp: the customer data platform

Usage:
  cdp start                        start every service in one process (embedded bus + chDB by default)
  cdp migrate                      apply warehouse migrations and exit (server must not be running in embedded mode)
  cdp sources list                 list sources
  cdp sources create <name> [--origins a,b] [--redirect-allowlist h1,h2] [--ip-policy keep|strip_last_octet|drop]
  cdp sources update <id> [--name n] [--origins a,b] [--redirect-allowlist h1,h2] [--ip-policy p]
  cdp sources rotate-key <id>      issue a new write key (the old one stops working)
  cdp sql "<query>" [--param name=value ...] [--json]
  cdp persons lookup <type> <value> [--events N]   find the person of an identifier (email/phone in clear: hashed by the server)
  cdp persons get <oneId> [--events N]             identifiers, latest traits, last N events (default 20), audit trail
  cdp persons split <oneId> <type>=<value>...      move identifiers (and their events) to a new person, kept apart
  cdp persons export <oneId> [> file.ndjson]       everything about the person, as NDJSON
  cdp persons delete <oneId>                       erase the person (GDPR); its ids are never reused
  cdp tags list                    tag definitions (built-ins included) and the tags each produces
  cdp tags get <name>              one definition (by its name or a tag it produces)
  cdp tags apply <file.json>       create or replace the definitions in a file (one or an array)
  cdp tags delete <name>           delete a definition (its values are removed on the next run)
  cdp tags recompute [--full]      run the tag engine now and print what it did
  cdp tags distribution <tag>      how many people have each value
  cdp tags runs                    run history
  cdp audiences list               audiences: size, refresh, last run
  cdp audiences preview <file.json>   size, by channel and RFM group, a sample ({definition} or {conditions})
  cdp audiences apply <file.json>  create or replace the audiences in a file (one or an array)
  cdp audiences refresh <name>     run it now and print what changed
  cdp audiences members <name> [--csv]   every member's person id, one a line (--csv: person_id,entered_at)
  cdp audiences runs <name> [--limit N]  run history
  cdp audiences delete <name>      delete an audience
  cdp audiences lookalike <seed> --ratio 0.05 [--exclude a,b] [--name N] [--seed S]
                                   build (or rebuild) an audience of the people most like the seed's members
${DESTINATIONS_USAGE}
${METRICS_USAGE}
  cdp attribution [--conversion E] [--from D] [--to D] [--lookback N] [--models a,b] [--classifier ga4|snowplow] [--transform t]
                                   credit per channel and model, top paths (default: Order Completed, last 30 days)
  cdp funnel <event1> <event2> ... [--window S] [--from D] [--to D]   people per step, conversion, median time
  cdp paths [--by channel|event] [--steps N] [--from D] [--to D] [--start X] [--end Y]   most common sequences as edges

API commands talk to a running platform: --url (default http://127.0.0.1:$PORT) and
--token (default $CDP_ADMIN_TOKEN, else $CDP_DATA_DIR/credentials.json).
Settings come from the environment; see the README's configuration table.
`;

const list = (v: string | undefined): string[] | undefined =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

/** Writes a value as indented JSON. */
const pretty = (v: unknown): void => {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
};

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      name: { type: 'string' },
      origins: { type: 'string' },
      'redirect-allowlist': { type: 'string' },
      'ip-policy': { type: 'string' },
      param: { type: 'string', multiple: true },
      events: { type: 'string' },
      conversion: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      lookback: { type: 'string' },
      models: { type: 'string' },
      classifier: { type: 'string' },
      transform: { type: 'string' },
      window: { type: 'string' },
      by: { type: 'string' },
      steps: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      limit: { type: 'string' },
      ratio: { type: 'string' },
      exclude: { type: 'string' },
      seed: { type: 'string' },
      interval: { type: 'string' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
      full: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, sub, arg] = positionals;
  if (values.help || cmd === undefined || cmd === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  switch (cmd) {
    // The runner is its own workspace (@cdp/platform); loaded only for these
    // two commands, so the API commands stay a thin client.
    case 'start': {
      const { runStart } = await import('@cdp/platform');
      await runStart(process.env);
      return -1;
    }
    case 'migrate': {
      const { runMigrate } = await import('@cdp/platform');
      await runMigrate(process.env);
      return 0;
    }
    case 'sources': {
      const target = await resolveTarget(values, process.env);
      const patch = {
        ...(values.name === undefined ? {} : { name: values.name }),
        ...(values.origins === undefined ? {} : { allowedOrigins: list(values.origins) }),
        ...(values['redirect-allowlist'] === undefined
          ? {}
          : { redirectAllowlist: list(values['redirect-allowlist']) }),
        ...(values['ip-policy'] === undefined ? {} : { ipPolicy: values['ip-policy'] }),
      };
      if (sub === 'list' || sub === undefined) {
        const r = await api<{ sources: Record<string, unknown>[] }>(target, 'GET', '/v1/sources');
        process.stdout.write(
          values.json ? `${JSON.stringify(r.sources, null, 2)}\n` : `${table(r.sources)}\n`,
        );
      } else if (sub === 'create') {
        if (!arg) throw new Error('usage: cdp sources create <name>');
        const r = await api<{ source: Record<string, unknown>; writeKey: string }>(
          target,
          'POST',
          '/v1/sources',
          { ...patch, name: arg },
        );
        process.stdout.write(
          `created source ${String(r.source['id'])}\nwrite key: ${r.writeKey}\n`,
        );
      } else if (sub === 'update') {
        if (!arg) throw new Error('usage: cdp sources update <id> [--name ...]');
        const r = await api<{ source: Record<string, unknown> }>(
          target,
          'PATCH',
          `/v1/sources/${encodeURIComponent(arg)}`,
          patch,
        );
        process.stdout.write(`${JSON.stringify(r.source, null, 2)}\n`);
      } else if (sub === 'rotate-key') {
        if (!arg) throw new Error('usage: cdp sources rotate-key <id>');
        const r = await api<{ writeKey: string }>(
          target,
          'POST',
          `/v1/sources/${encodeURIComponent(arg)}/rotate-key`,
        );
        process.stdout.write(`new write key: ${r.writeKey}\n`);
      } else throw new Error(`unknown sources command ${sub}`);
      return 0;
    }
    case 'sql': {
      if (!sub) throw new Error('usage: cdp sql "<query>"');
      const target = await resolveTarget(values, process.env);
      const params: Record<string, string> = {};
      for (const p of values.param ?? []) {
        const i = p.indexOf('=');
        if (i < 1) throw new Error(`--param ${p}: use name=value`);
        params[p.slice(0, i)] = p.slice(i + 1);
      }
      const r = await api<{ rows: Record<string, unknown>[]; truncated: boolean }>(
        target,
        'POST',
        '/v1/sql',
        { query: sub, params },
      );
      process.stdout.write(
        values.json
          ? `${JSON.stringify(r.rows)}\n`
          : `${table(r.rows)}\n${r.truncated ? '(truncated)\n' : ''}`,
      );
      return 0;
    }
    case 'persons': {
      const target = await resolveTarget(values, process.env);
      const rest = positionals.slice(3);
      const events =
        values.events === undefined ? '' : `events=${encodeURIComponent(values.events)}`;
      const person = (id: string | undefined, usage: string): string => {
        if (!id) throw new Error(`usage: ${usage}`);
        return `/v1/persons/${encodeURIComponent(id)}`;
      };
      if (sub === 'lookup') {
        const value = rest[0];
        if (!arg || value === undefined)
          throw new Error('usage: cdp persons lookup <type> <value>');
        const q = `type=${encodeURIComponent(arg)}&value=${encodeURIComponent(value)}`;
        pretty(await api(target, 'GET', `/v1/persons/lookup?${q}${events && `&${events}`}`));
      } else if (sub === 'get') {
        const path = person(arg, 'cdp persons get <oneId> [--events N]');
        pretty(await api(target, 'GET', `${path}${events && `?${events}`}`));
      } else if (sub === 'split') {
        const path = person(arg, 'cdp persons split <oneId> <type>=<value>...');
        const r = await api<Parameters<typeof splitSummary>[0]>(target, 'POST', `${path}/split`, {
          identifiers: parseIdentifierArgs(rest),
        });
        process.stdout.write(`${splitSummary(r)}\n`);
      } else if (sub === 'export') {
        const path = person(arg, 'cdp persons export <oneId> [> file.ndjson]');
        await apiStream(target, `${path}/export`, process.stdout);
      } else if (sub === 'delete') {
        const path = person(arg, 'cdp persons delete <oneId>');
        const r = await api<Parameters<typeof deleteSummary>[0]>(target, 'DELETE', path);
        process.stdout.write(`${deleteSummary(r)}\n`);
      } else
        throw new Error(
          `unknown persons command ${sub ?? ''} (lookup, get, split, export, delete)`,
        );
      return 0;
    }
    case 'tags': {
      const target = await resolveTarget(values, process.env);
      const tagPath = (name: string | undefined, usage: string): string => {
        if (!name) throw new Error(`usage: ${usage}`);
        return `/v1/tags/${encodeURIComponent(name)}`;
      };
      if (sub === 'list' || sub === undefined) {
        const r = await api<{
          tags: {
            name: string;
            type: string;
            enabled: boolean;
            builtin: boolean;
            version: number;
            tags: { name: string }[];
          }[];
        }>(target, 'GET', '/v1/tags');
        if (values.json) pretty(r.tags);
        else
          process.stdout.write(
            `${table(r.tags.map((t) => ({ name: t.name, type: t.type, enabled: t.enabled, builtin: t.builtin, version: t.version, tags: t.tags.map((o) => o.name).join(',') })))}\n`,
          );
      } else if (sub === 'get') {
        pretty(await api(target, 'GET', tagPath(arg, 'cdp tags get <name>')));
      } else if (sub === 'apply') {
        if (!arg) throw new Error('usage: cdp tags apply <file.json>');
        const parsed = JSON.parse(await readFile(arg, 'utf8')) as unknown;
        for (const def of Array.isArray(parsed) ? parsed : [parsed]) {
          const name = (def as { name?: unknown }).name;
          if (typeof name !== 'string') throw new Error(`${arg}: every definition needs a name`);
          const exists = await api(target, 'GET', tagPath(name, '')).then(
            () => true,
            (e: unknown) => {
              if (e instanceof Error && e.message.startsWith('404 ')) return false;
              throw e;
            },
          );
          const r = await api<{ tag: { name: string; version: number } }>(
            target,
            exists ? 'PUT' : 'POST',
            exists ? tagPath(name, '') : '/v1/tags',
            def,
          );
          process.stdout.write(
            `${exists ? 'updated' : 'created'} ${r.tag.name} (version ${r.tag.version})\n`,
          );
        }
      } else if (sub === 'delete') {
        await api(target, 'DELETE', tagPath(arg, 'cdp tags delete <name>'));
        process.stdout.write(`deleted ${arg ?? ''}\n`);
      } else if (sub === 'recompute') {
        const r = await api<{ run: Record<string, unknown> }>(
          target,
          'POST',
          '/v1/tags/recompute',
          values.full ? { full: true } : {},
        );
        pretty(r.run);
      } else if (sub === 'distribution') {
        const r = await api<{ people: number; values: { value: unknown; count: number }[] }>(
          target,
          'GET',
          `${tagPath(arg, 'cdp tags distribution <tag>')}/distribution`,
        );
        if (values.json) pretty(r);
        else process.stdout.write(`${r.people} people\n${table(r.values)}\n`);
      } else if (sub === 'runs') {
        const r = await api<{ runs: Record<string, unknown>[] }>(target, 'GET', '/v1/tags/runs');
        process.stdout.write(
          values.json ? `${JSON.stringify(r.runs, null, 2)}\n` : `${table(r.runs)}\n`,
        );
      } else throw new Error(`unknown tags command ${sub}`);
      return 0;
    }
    case 'audiences': {
      const target = await resolveTarget(values, process.env);
      const audiencePath = (name: string | undefined, usage: string): string => {
        if (!name) throw new Error(`usage: ${usage}`);
        return `/v1/audiences/${encodeURIComponent(name)}`;
      };
      const readJson = async (file: string | undefined, usage: string): Promise<unknown> => {
        if (!file) throw new Error(`usage: ${usage}`);
        try {
          return JSON.parse(await readFile(file, 'utf8')) as unknown;
        } catch (e) {
          throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
        }
      };
      if (sub === 'list' || sub === undefined) {
        const r = await api<{ audiences: Parameters<typeof audiencesTable>[0] }>(
          target,
          'GET',
          '/v1/audiences',
        );
        if (values.json) pretty(r.audiences);
        else process.stdout.write(`${audiencesTable(r.audiences)}\n`);
      } else if (sub === 'preview') {
        const body = previewBody(
          await readJson(arg, 'cdp audiences preview <file.json>'),
          arg ?? '',
        );
        const r = await api<Parameters<typeof previewText>[0]>(
          target,
          'POST',
          '/v1/audiences/preview',
          body,
        );
        if (values.json) pretty(r);
        else process.stdout.write(`${previewText(r)}\n`);
      } else if (sub === 'apply') {
        const file = arg ?? '';
        const all = audiencesInFile(await readJson(arg, 'cdp audiences apply <file.json>'), file);
        for (const a of all) {
          const r = await applyAudience(target, a).catch((e: unknown) => {
            throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
          });
          process.stdout.write(`${r.action} ${a.name} (version ${r.version})\n`);
        }
      } else if (sub === 'refresh') {
        const r = await api<{ run: Parameters<typeof runSummary>[1] }>(
          target,
          'POST',
          `${audiencePath(arg, 'cdp audiences refresh <name>')}/refresh`,
        );
        if (values.json) pretty(r.run);
        else process.stdout.write(`${runSummary(arg ?? '', r.run)}\n`);
      } else if (sub === 'members') {
        const path = `${audiencePath(arg, 'cdp audiences members <name> [--csv]')}/members`;
        if (values.csv) await apiStream(target, `${path}?format=csv`, process.stdout);
        else await writeMembers(target, arg ?? '', process.stdout);
      } else if (sub === 'runs') {
        const path = `${audiencePath(arg, 'cdp audiences runs <name> [--limit N]')}/runs`;
        const limit =
          values.limit === undefined ? '' : `?limit=${encodeURIComponent(values.limit)}`;
        const r = await api<{ runs: Parameters<typeof runsTable>[0] }>(
          target,
          'GET',
          `${path}${limit}`,
        );
        if (values.json) pretty(r.runs);
        else process.stdout.write(`${runsTable(r.runs)}\n`);
      } else if (sub === 'lookalike') {
        const usage =
          'cdp audiences lookalike <seed> --ratio 0.05 [--exclude a,b] [--name N] [--seed S]';
        const path = `${audiencePath(arg, usage)}/lookalike`;
        if (values.ratio === undefined) throw new Error(`usage: ${usage}`);
        const num = (v: string): number | string => (Number.isFinite(Number(v)) ? Number(v) : v);
        const r = await api<LookalikeAnswer>(target, 'POST', path, {
          ratio: num(values.ratio),
          ...(values.exclude !== undefined
            ? {
                exclude: values.exclude
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean),
              }
            : {}),
          ...(values.name !== undefined ? { name: values.name } : {}),
          ...(values.seed !== undefined ? { seed: num(values.seed) } : {}),
        });
        if (values.json) pretty(r);
        else process.stdout.write(`${lookalikeText(r)}\n`);
      } else if (sub === 'delete') {
        await api(target, 'DELETE', audiencePath(arg, 'cdp audiences delete <name>'));
        process.stdout.write(`deleted ${arg ?? ''}\n`);
      } else
        throw new Error(
          `unknown audiences command ${sub} (list, preview, apply, refresh, members, runs, delete, lookalike)`,
        );
      return 0;
    }
    case 'metrics':
    case 'alerts': {
      const target = await resolveTarget(values, process.env);
      const run = cmd === 'metrics' ? metricsCommand : alertsCommand;
      const text = await run(target, sub, positionals.slice(2), {
        json: values.json,
        from: values.from,
        to: values.to,
        interval: values.interval,
        by: values.by,
        steps: values.steps,
        limit: values.limit,
      });
      process.stdout.write(`${text}\n`);
      return 0;
    }
    case 'destinations': {
      const target = await resolveTarget(values, process.env);
      const text = await destinationsCommand(target, sub, positionals.slice(2), values);
      process.stdout.write(`${text}\n`);
      return 0;
    }
    case 'attribution': {
      const target = await resolveTarget(values, process.env);
      const r = await api<Parameters<typeof attributionTables>[0]>(
        target,
        'GET',
        `/v1/attribution${attributionQueryString(values)}`,
      );
      process.stdout.write(
        values.json ? `${JSON.stringify(r, null, 2)}\n` : `${attributionTables(r)}\n`,
      );
      return 0;
    }
    case 'funnel': {
      const target = await resolveTarget(values, process.env);
      const events = positionals.slice(1);
      if (events.length < 2)
        throw new Error('usage: cdp funnel <event1> <event2> ... [--window S]');
      const to = values.to ?? new Date().toISOString();
      const from = values.from ?? new Date(Date.parse(to) - 30 * 86_400_000).toISOString();
      const r = await api<Parameters<typeof funnelTable>[0]>(target, 'POST', '/v1/funnels', {
        steps: events.map((event) => ({ event })),
        windowSeconds: Number(values.window ?? 86_400),
        from,
        to,
      });
      process.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : `${funnelTable(r)}\n`);
      return 0;
    }
    case 'paths': {
      const target = await resolveTarget(values, process.env);
      const dateTo = values.to ?? new Date().toISOString();
      const dateFrom = values.from ?? new Date(Date.parse(dateTo) - 30 * 86_400_000).toISOString();
      const r = await api<Parameters<typeof pathsTable>[0]>(target, 'POST', '/v1/paths', {
        dateFrom,
        dateTo,
        by: values.by ?? 'event',
        steps: Number(values.steps ?? 5),
        ...(values.start === undefined ? {} : { start: values.start }),
        ...(values.end === undefined ? {} : { end: values.end }),
        ...(values.classifier === undefined ? {} : { classifier: values.classifier }),
      });
      process.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : `${pathsTable(r)}\n`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command ${cmd}\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(
      `cdp: ${isCdpError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
