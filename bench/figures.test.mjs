import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { figuresFile, loadResults, quotedFigures, readmes, render, root } from './figures.mjs';

describe('bench figures: one source of truth', () => {
  it('bench/FIGURES.md is what `node bench/figures.mjs` makes from bench/results/*.json', () => {
    expect(existsSync(figuresFile)).toBe(true);
    expect(readFileSync(figuresFile, 'utf8')).toBe(render(loadResults()));
  });

  it('every results file says when, where and how it was measured', () => {
    const results = loadResults();
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.bench, JSON.stringify(r).slice(0, 80)).toMatch(/^[\w-]+$/);
      expect(Number.isNaN(Date.parse(r.date)), r.bench).toBe(false);
      expect(r.command, r.bench).toMatch(/^(BENCH_\w+=\S* )*node .*bench\/[\w-]+\.mjs/);
      expect(r.cores, r.bench).toBeGreaterThan(0);
      expect(r.node, r.bench).toMatch(/^v\d+/);
      expect(r.figures.length, r.bench).toBeGreaterThan(0);
      for (const f of r.figures)
        expect(typeof f.what === 'string' && typeof f.value === 'string').toBe(true);
    }
  });

  it.each(readmes())('%s quotes no bench figures of its own', (file) => {
    const quoted = quotedFigures(readFileSync(join(root, file), 'utf8'));
    expect(quoted.map((q) => `${file}:${q.line}: ${q.figure}`)).toEqual([]);
  });

  it.each(readmes())('%s links only to sections bench/FIGURES.md has', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const anchors = new Set(
      [...readFileSync(figuresFile, 'utf8').matchAll(/^## (.+)$/gm)].map((m) =>
        m[1]
          .toLowerCase()
          .replace(/[^\w -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const m of text.matchAll(/FIGURES\.md#([\w-]+)/g)) expect(anchors, file).toContain(m[1]);
  });
});

describe('quotedFigures', () => {
  it('finds figures next to a bench command or under a Performance heading', () => {
    const md = [
      'Markov runs in 29 ms and Shapley in 22–64 ms (`node bench/attribution-models.mjs`);',
      'the resolver links 224,000–309,000',
      'identifiers a second.',
      '',
      '## Performance',
      '',
      '| model | median |',
      '| --- | --- |',
      '| Markov order 1 | 44 ms |',
      '',
      'Runs under load were 2-4x slower; p99 1.1 s, 5,900 req/s, 160 MiB per million.',
    ].join('\n');
    expect(quotedFigures(md).map((q) => [q.line, q.figure])).toEqual([
      [1, '29 ms'],
      [1, '22–64 ms'],
      [2, '224,000–309,000 identifiers a second'],
      [9, '44 ms'],
      [11, '2-4x'],
      [11, 'p99 1.1'],
      [11, '5,900 req/s'],
      [11, '160 MiB'],
    ]);
  });

  it('leaves settings, commands and prose elsewhere alone', () => {
    const md = [
      'Queries stop after 30 s and answer at most 16 MiB.',
      '',
      'Run `node bench/ingest.mjs --duration 10` for the 2 s target on the 60 s schedule;',
      'figures: [bench/FIGURES.md](bench/FIGURES.md#ingest-embedded).',
      '',
      '```',
      'node bench/x.mjs  # 29 ms',
      '```',
    ].join('\n');
    expect(quotedFigures(md)).toEqual([]);
  });
});
