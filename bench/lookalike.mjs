// Lookalike benchmark: issue 13's lookalike figures, on 2 cores. Prints
// figures; not a test.
//
//   npm run build && node bench/lookalike.mjs
//
// 1. Quality and the model's own time ("report quality the usual way"): a
//    synthetic population of BENCH_PEOPLE people (default 1,000,000) with 8
//    planted groups (@cdp/lookalike's syntheticPopulation: each group has
//    its own favourite categories, channels, device, spend, activity and
//    recency, and a person follows their group on each feature with
//    probability 0.5); the seed is the planted group 0 (2%). 20% of the
//    seed is held out, the expansion built from the rest over everyone
//    else, and the share of held-out members in the top 1%, 5% and 10%
//    (recall) and precision at k over the base rate (lift) printed. Then
//    an expansion of the whole seed at 5% is timed (features already in
//    memory: the model's training and the scoring of everyone).
// 2. The service end to end ("lookalike over 1,000,000 people in under
//    30 s"): the data of bench/audiences-data.mjs (1,000,000 people,
//    10,000,000 events, merges, rfm_group and churn_risk tags) on embedded
//    chDB; a seed audience (people who bought watches in the last year) is
//    run, then POST /v1/audiences/:name/lookalike's service call (ratio
//    0.05) is timed: the features query into lookalike_features, reading
//    them back, the model, writing the list, and the new audience's first
//    run (every member enters), each step printed.
//
// Env: BENCH_PEOPLE (default 1000000), BENCH_EVENTS (default 10000000),
// BENCH_DATA_DIR (default: a fresh temp dir, removed; kept data skips the
// generator), BENCH_NOTE. `--only=quality` or `--only=service` runs one part.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEmbeddedBus } from '@cdp/bus';
import { evaluateLookalike, expandLookalike, syntheticPopulation } from '@cdp/lookalike';
import { createAudienceService } from '@cdp/segment-exporter';
import { createClickHouseWarehouse } from '@cdp/warehouse';
import { loadAudienceData, NOW } from './audiences-data.mjs';
import { quiet, writeResults } from './lib.mjs';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const pct = (x) => `${(x * 100).toFixed(1)}%`;
console.log(`cpus ${cpus().length}, ${PEOPLE.toLocaleString('en-US')} people`);

const figures = [];
const raw = {};

if (only === undefined || only === 'quality') {
  let t = performance.now();
  const pop = syntheticPopulation({ size: PEOPLE, seed: 11 });
  const genMs = performance.now() - t;
  const everyone = new Int32Array(PEOPLE);
  for (let i = 0; i < PEOPLE; i++) everyone[i] = i;
  const seedRows = [];
  for (let i = 0; i < PEOPLE; i++) if (pop.group[i] === 0) seedRows.push(i);
  const seed = Int32Array.from(seedRows);
  console.log(
    `synthetic population: ${s(genMs)}; planted group ${seed.length.toLocaleString('en-US')} (${pct(seed.length / PEOPLE)})`,
  );
  t = performance.now();
  const q = evaluateLookalike({ features: pop.features, seed, eligible: everyone });
  const qualityMs = performance.now() - t;
  console.log(
    `quality (20% of the seed held out: ${q.heldOut}; ${q.ranked.toLocaleString('en-US')} ranked; base rate ${pct(q.baseRate)}), in ${s(qualityMs)}:`,
  );
  for (const a of q.at)
    console.log(
      `  top ${pct(a.share)}: recall ${pct(a.recall)} (${a.found}/${q.heldOut}), precision ${pct(a.precision)}, lift ${a.lift.toFixed(1)}`,
    );
  t = performance.now();
  const x = expandLookalike({ features: pop.features, seed, eligible: everyone }, { ratio: 0.05 });
  const modelMs = performance.now() - t;
  console.log(
    `expansion of the whole seed at 5%: ${s(modelMs)} (${x.training.seedRows} + ${x.training.populationRows} training rows, ${x.encoding.columns.length} columns, ${x.model.iterations} Newton iterations), ${x.selected.length.toLocaleString('en-US')} selected`,
  );
  raw.quality = { ...q, genMs, qualityMs, modelMs, columns: x.encoding.columns.length };
  for (const a of q.at)
    figures.push({
      what: `lookalike quality, top ${pct(a.share)} (synthetic, planted 2% group): recall / lift`,
      value: `${pct(a.recall)} / ${a.lift.toFixed(1)}`,
    });
  figures.push({
    what: `lookalike model over ${PEOPLE.toLocaleString('en-US')} people (train + score, features in memory)`,
    value: s(modelMs),
  });
}

if (only === undefined || only === 'service') {
  const keep = process.env.BENCH_DATA_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'cdp-bench-lookalike-'));
  const warehouse = await createClickHouseWarehouse({ dataDir: join(dir, 'ch'), logger: quiet });
  const bus = await createEmbeddedBus({ dir: join(dir, 'bus'), logger: quiet });
  try {
    await warehouse.migrate();
    const loadS = await loadAudienceData(warehouse, { events: EVENTS, people: PEOPLE });
    if (loadS > 0)
      console.log(`generated ${EVENTS.toLocaleString('en-US')} events in ${loadS.toFixed(1)} s`);
    const audiences = createAudienceService({
      warehouse,
      bus,
      changesTopic: 'cdp.audiences.changes',
      logger: quiet,
      now: () => NOW,
    });
    const seedName = 'watch-buyers';
    if (!(await audiences.list()).some((a) => a.name === seedName))
      await audiences.create({
        name: seedName,
        refresh: 'manual',
        definition: {
          conditions: {
            performed: {
              event: 'Order Completed',
              where: [{ property: 'category', op: 'eq', value: 'watches' }],
              within: { days: 365 },
            },
          },
        },
      });
    const seedRun = await audiences.refresh(seedName);
    console.log(
      `seed audience: ${seedRun.size.toLocaleString('en-US')} members (run ${s(seedRun.durationMs)})`,
    );
    // A name of its own each time, so that on a kept data dir its first run is one.
    const likeName = `watch-buyers-like-${Date.now()}`;
    const t = performance.now();
    const out = await audiences.lookalike(seedName, { ratio: 0.05, name: likeName });
    const totalMs = performance.now() - t;
    const l = out.lookalike;
    console.log(
      `lookalike: ${s(totalMs)} in all: ${l.selected.toLocaleString('en-US')} of ${l.eligible.toLocaleString('en-US')} eligible (${l.people.toLocaleString('en-US')} people with data, seed ${l.seedSize.toLocaleString('en-US')})`,
    );
    console.log(
      `  features query ${s(l.ms.features)}, read back ${s(l.ms.read)}, model ${s(l.ms.model)} (${l.training.seedRows} + ${l.training.populationRows} rows, ${l.model.iterations} iterations), list written ${s(l.ms.write)}, first run ${s(out.run.durationMs)} (+${out.run.entered})`,
    );
    raw.service = { report: l, run: out.run, totalMs };
    figures.push({
      what: `lookalike through the service over ${l.people.toLocaleString('en-US')} people (features, model, list, first run)`,
      value: s(totalMs),
      target: '30 s',
    });
  } finally {
    await bus.close();
    await warehouse.close();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

writeResults(only ? `lookalike-${only}` : 'lookalike', {
  params: {
    people: PEOPLE,
    events: EVENTS,
    quality: 'syntheticPopulation(seed 11): 8 groups, planted 2%, affinity 0.5; holdout 20%',
    service: 'bench/audiences-data.mjs data; seed: bought watches in the last year; ratio 0.05',
  },
  figures,
  raw,
});
