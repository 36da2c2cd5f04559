import { describe, expect, it } from 'vitest';
import {
  checksumOf,
  loadMigrations,
  parseMigration,
  planMigrations,
  splitStatements,
} from './migrations.js';

describe('splitStatements', () => {
  it.each([
    [
      'one statement',
      'CREATE TABLE a (x UInt8) ENGINE = Memory;\n',
      ['CREATE TABLE a (x UInt8) ENGINE = Memory'],
    ],
    ['no final semicolon', 'SELECT 1', ['SELECT 1']],
    [
      'two, over several lines',
      'CREATE TABLE a\n(\n  x UInt8\n)\nENGINE = Memory;\n\nINSERT INTO a VALUES (1);\n',
      ['CREATE TABLE a\n(\n  x UInt8\n)\nENGINE = Memory', 'INSERT INTO a VALUES (1)'],
    ],
    [
      'a ; inside a line is not an end',
      "INSERT INTO a VALUES ('x;y');\n",
      ["INSERT INTO a VALUES ('x;y')"],
    ],
    [
      'comment lines are dropped, even ending in ;',
      '-- first;\n-- second\nSELECT 1;\n-- trailing;\n',
      ['SELECT 1'],
    ],
    ['CRLF', 'SELECT 1;\r\nSELECT 2;\r\n', ['SELECT 1', 'SELECT 2']],
    ['blank', '\n\n', []],
  ])('%s', (_label, text, expected) => {
    expect(splitStatements(text)).toEqual(expected);
  });
});

describe('parseMigration', () => {
  it('reads version and name from NNN_name.sql', () => {
    const m = parseMigration('007_add_things.sql', 'SELECT 1;\n');
    expect(m).toMatchObject({ version: 7, name: '007_add_things', statements: ['SELECT 1'] });
    expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('checksums ignore line-ending style', () => {
    expect(checksumOf('a;\r\nb;\r\n')).toBe(checksumOf('a;\nb;\n'));
  });

  it.each([['events.sql'], ['1-events.sql'], ['001_.sql'], ['001_events.SQL.sql.bak']])(
    'refuses the name %s',
    (name) => {
      expect(() => parseMigration(name, 'SELECT 1;')).toThrow(
        expect.objectContaining({ code: 'CDP_ERR_WAREHOUSE_MIGRATION' }),
      );
    },
  );

  it('refuses a file without statements', () => {
    expect(() => parseMigration('001_empty.sql', '-- nothing;\n')).toThrow(/no statements/);
  });
});

describe('planMigrations', () => {
  const a = parseMigration('001_a.sql', 'SELECT 1;');
  const b = parseMigration('002_b.sql', 'SELECT 2;');
  const rec = (m: typeof a, checksum = m.checksum) => ({
    version: m.version,
    name: m.name,
    checksum,
  });

  it('applies what is not recorded, in order', () => {
    expect(planMigrations([a, b], [])).toEqual({
      toApply: [a, b],
      alreadyApplied: [],
      unknownApplied: [],
    });
    expect(planMigrations([a, b], [rec(a)])).toEqual({
      toApply: [b],
      alreadyApplied: [a],
      unknownApplied: [],
    });
    expect(planMigrations([a, b], [rec(a), rec(b)])).toEqual({
      toApply: [],
      alreadyApplied: [a, b],
      unknownApplied: [],
    });
  });

  it('reports recorded migrations that have no file', () => {
    expect(planMigrations([a], [rec(a), rec(b)]).unknownApplied).toEqual([rec(b)]);
  });

  it('refuses an applied migration whose file changed, naming it', () => {
    expect(() => planMigrations([a, b], [rec(a, 'f'.repeat(64))])).toThrow(
      expect.objectContaining({
        code: 'CDP_ERR_WAREHOUSE_MIGRATION',
        message: expect.stringContaining('001_a.sql'),
      }),
    );
  });
});

describe('the shipped migrations', () => {
  it('are numbered from 001 without gaps and each has statements', async () => {
    const all = await loadMigrations(new URL('../migrations/', import.meta.url));
    expect(all.map((m) => m.version)).toEqual(all.map((_, i) => i + 1));
    expect(all.map((m) => m.name).slice(0, 3)).toEqual([
      '001_events',
      '002_events_invalid',
      '003_sources',
    ]);
    for (const m of all) expect(m.statements.length).toBeGreaterThan(0);
  });
});
