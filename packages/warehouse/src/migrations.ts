import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CdpError, isCdpError, type Logger } from '@cdp/core';
import { TABLES } from './tables.js';
import type { MigrationReport, Warehouse } from './warehouse.js';

/**
 * One numbered migration file, `NNN_name.sql`. Statements end with `;` at the
 * end of a line; whole-line `--` comments are dropped; `{db}` stands for the
 * warehouse's database name. ClickHouse DDL is not transactional, so write
 * statements that can run twice (`IF NOT EXISTS`): a migration that fails half
 * way is re-run from its first statement at the next start.
 */
export interface Migration {
  readonly version: number;
  /** The file name without `.sql`, e.g. `001_events`. */
  readonly name: string;
  /** SHA-256 (hex) of the file with line endings normalised to `\n`. */
  readonly checksum: string;
  readonly statements: readonly string[];
}

export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
}

export interface MigrationPlan {
  readonly toApply: readonly Migration[];
  readonly alreadyApplied: readonly Migration[];
  /** Recorded as applied but no file has that version (a newer build ran here?). */
  readonly unknownApplied: readonly AppliedMigration[];
}

/** The package's own migrations folder; resolves the same from `src/` and `dist/`. */
export const DEFAULT_MIGRATIONS_DIR: URL = new URL('../migrations/', import.meta.url);

const FILE_NAME = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/;

/** Splits a migration file into statements (see {@link Migration}). */
export function splitStatements(text: string): string[] {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'));
  const statements: string[] = [];
  let current: string[] = [];
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed.endsWith(';')) {
      current.push(trimmed.slice(0, -1));
      statements.push(current.join('\n'));
      current = [];
    } else {
      current.push(line);
    }
  }
  statements.push(current.join('\n'));
  return statements.map((s) => s.trim()).filter((s) => s.length > 0);
}

export function checksumOf(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n?/g, '\n')).digest('hex');
}

/** Parses one migration file's name and text. */
export function parseMigration(fileName: string, text: string): Migration {
  const m = FILE_NAME.exec(fileName);
  if (m === null || m[1] === undefined) {
    throw new CdpError('CDP_ERR_WAREHOUSE_MIGRATION', {
      message: `Migration file "${fileName}" is not named NNN_name.sql (digits, underscore, letters/digits/_/-)`,
    });
  }
  const statements = splitStatements(text);
  if (statements.length === 0) {
    throw new CdpError('CDP_ERR_WAREHOUSE_MIGRATION', {
      message: `Migration file "${fileName}" has no statements`,
    });
  }
  return {
    version: Number(m[1]),
    name: fileName.slice(0, -'.sql'.length),
    checksum: checksumOf(text),
    statements,
  };
}

/** Reads every `*.sql` file of a folder as a migration, ordered by version. */
export async function loadMigrations(dir: string | URL): Promise<Migration[]> {
  const path = typeof dir === 'string' ? dir : fileURLToPath(dir);
  let files: string[];
  try {
    files = (await readdir(path)).filter((f) => f.endsWith('.sql'));
  } catch (cause) {
    throw new CdpError('CDP_ERR_WAREHOUSE_MIGRATION', {
      message: `Cannot read the migrations folder ${path}`,
      cause,
    });
  }
  const migrations = await Promise.all(
    files.map(async (f) => parseMigration(f, await readFile(`${path}/${f}`, 'utf8'))),
  );
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    const prev = migrations[i - 1];
    const cur = migrations[i];
    if (prev !== undefined && cur !== undefined && prev.version === cur.version) {
      throw new CdpError('CDP_ERR_WAREHOUSE_MIGRATION', {
        message: `Two migrations have version ${cur.version}: ${prev.name}.sql and ${cur.name}.sql`,
      });
    }
  }
  return migrations;
}

/**
 * Decides what to run. An applied migration whose file changed since is an
 * error: applied migrations are history, so a change goes in a new file.
 */
export function planMigrations(
  available: readonly Migration[],
  applied: readonly AppliedMigration[],
): MigrationPlan {
  const byVersion = new Map(applied.map((a) => [a.version, a]));
  const changed: string[] = [];
  const toApply: Migration[] = [];
  const alreadyApplied: Migration[] = [];
  for (const m of available) {
    const done = byVersion.get(m.version);
    if (done === undefined) toApply.push(m);
    else if (done.checksum !== m.checksum)
      changed.push(
        `${m.name}.sql (applied as ${done.name} with checksum ${done.checksum.slice(0, 12)}…, file now ${m.checksum.slice(0, 12)}…)`,
      );
    else alreadyApplied.push(m);
  }
  if (changed.length > 0) {
    throw new CdpError('CDP_ERR_WAREHOUSE_MIGRATION', {
      message: `Applied migrations were changed after they ran: ${changed.join('; ')}. Put the change in a new migration file instead of editing an applied one`,
    });
  }
  const known = new Set(available.map((m) => m.version));
  return { toApply, alreadyApplied, unknownApplied: applied.filter((a) => !known.has(a.version)) };
}

const CREATE_SCHEMA_MIGRATIONS = `CREATE TABLE IF NOT EXISTS ${TABLES.schemaMigrations}
(
    version     UInt32,
    name        String,
    checksum    String,
    applied_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version`;

/**
 * Applies every migration not applied yet, in version order, and records each
 * in `schema_migrations` after all its statements succeeded.
 */
export async function runMigrations(
  wh: Pick<Warehouse, 'command' | 'query' | 'insert'>,
  opts: {
    readonly dir: string | URL;
    readonly database: string;
    readonly logger?: Logger | undefined;
  },
): Promise<MigrationReport> {
  const available = await loadMigrations(opts.dir);
  await wh.command(CREATE_SCHEMA_MIGRATIONS);
  const applied = await wh.query<AppliedMigration>(
    `SELECT version, name, checksum FROM ${TABLES.schemaMigrations} FINAL ORDER BY version`,
  );
  const plan = planMigrations(available, applied);
  for (const u of plan.unknownApplied) {
    opts.logger?.warn({ version: u.version, name: u.name }, 'warehouse_migration_unknown');
  }
  for (const m of plan.toApply) {
    for (const [i, statement] of m.statements.entries()) {
      try {
        await wh.command(statement.replaceAll('{db}', opts.database));
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        throw new CdpError('CDP_ERR_WAREHOUSE_MIGRATION', {
          message: `Migration ${m.name}.sql failed at statement ${i + 1} of ${m.statements.length}: ${message}`,
          retryable: isCdpError(e) && e.retryable,
          cause: e,
        });
      }
    }
    await wh.insert(TABLES.schemaMigrations, [
      { version: m.version, name: m.name, checksum: m.checksum, applied_at: new Date() },
    ]);
    opts.logger?.info({ version: m.version, name: m.name }, 'warehouse_migration_applied');
  }
  return {
    applied: plan.toApply.map((m) => m.name),
    alreadyApplied: plan.alreadyApplied.map((m) => m.name),
  };
}
