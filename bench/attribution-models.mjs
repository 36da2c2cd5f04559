// Times every attribution model over 10,000 distinct paths on 12 channels.
// Build first: npx tsc -b packages/attribution
// Usage: node bench/attribution-models.mjs [--paths 10000] [--runs 7] [--seed 42]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { attribute, attributeModel } from '../packages/attribution/dist/index.js';
import { writeResults } from './lib.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

const settings = {
  seed: arg('seed', 42),
  distinctPaths: arg('paths', 10_000),
  channels: [
    'Organic_Search',
    'Paid_Search',
    'Direct',
    'Email',
    'Social',
    'Display',
    'Referral',
    'Affiliate',
    'Video',
    'Paid_Social',
    'SMS',
    'Push',
  ],
  channelPopularity: 'Zipf, weight 1/(rank+1)',
  pathLength: '1 + geometric(p = 0.3), capped at 15 (mean ~3.3)',
  journeysPerPath: '1 + floor(exponential(mean 20))',
  conversionRate:
    '0.02 + sum over distinct channels of a per-channel lift in [0.005, 0.035], capped at 0.6',
  valuePerConversion: 'uniform [20, 200)',
  touchTimes:
    'last touch exponential(mean 1 day) before conversion, each earlier gap exponential(mean 2 days)',
  runs: arg('runs', 7),
};

// mulberry32: small, seedable, good enough for test data.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate() {
  const rand = prng(settings.seed);
  const { channels } = settings;
  const weights = channels.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const pickChannel = () => {
    let u = rand() * total;
    for (let i = 0; i < channels.length; i++) if ((u -= weights[i]) < 0) return channels[i];
    return channels[channels.length - 1];
  };
  const lift = new Map(channels.map((c) => [c, 0.005 + 0.03 * rand()]));
  const exp = (mean) => -Math.log(1 - rand()) * mean;
  const DAY = 86_400_000;
  const seen = new Set();
  const rows = [];
  while (rows.length < settings.distinctPaths) {
    let len = 1;
    while (len < 15 && rand() > 0.3) len++;
    const path = Array.from({ length: len }, pickChannel);
    const key = path.join('>');
    if (seen.has(key)) continue;
    seen.add(key);
    const journeys = 1 + Math.floor(exp(20));
    const rate = Math.min(0.6, 0.02 + [...new Set(path)].reduce((a, c) => a + lift.get(c), 0));
    let conversions = 0;
    for (let j = 0; j < journeys; j++) if (rand() < rate) conversions++;
    let value = 0;
    for (let j = 0; j < conversions; j++) value += 20 + 180 * rand();
    let ms = exp(DAY);
    const touches = new Array(len);
    for (let i = len - 1; i >= 0; i--) {
      touches[i] = { channel: path[i], msBeforeConversion: Math.round(ms) };
      ms += exp(2 * DAY);
    }
    rows.push({ path: touches, conversions, value, nulls: journeys - conversions });
  }
  return rows;
}

function time(fn) {
  fn(); // warm-up
  const samples = [];
  let last;
  for (let i = 0; i < settings.runs; i++) {
    const t0 = performance.now();
    last = fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], min: samples[0], last };
}

const t0 = performance.now();
const rows = generate();
const genMs = performance.now() - t0;
const touches = rows.reduce((a, r) => a + r.path.length, 0);
const journeys = rows.reduce((a, r) => a + r.conversions + r.nulls, 0);
const conversions = rows.reduce((a, r) => a + r.conversions, 0);

console.log('attribution-models benchmark');
const cpus = os.cpus();
const load = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
console.log(
  `node ${process.version}, ${cpus.length} cores (${cpus[0]?.model ?? 'unknown'}), load average ${load}`,
);
console.log('generator settings:', JSON.stringify(settings, null, 2));
console.log(
  `data: ${rows.length} distinct paths, ${touches} touches, ${journeys} journeys, ${conversions} conversions (generated in ${genMs.toFixed(0)} ms)`,
);
console.log(
  `timings: median (min) of ${settings.runs} runs after one warm-up, validation included\n`,
);

const specs = [
  'first_touch',
  'last_touch',
  'last_non_direct',
  'linear',
  'time_decay',
  'position_based',
  'markov',
  { model: 'markov', order: 2 },
  { model: 'markov', order: 3 },
  'shapley_simplified',
  'shapley_exact',
];
const TARGET_MS = 200;
const figures = [];
const ruleBased = [];
for (const spec of specs) {
  const { median, min, last } = time(() => attributeModel(rows, spec));
  const targeted =
    last.model === 'shapley_simplified' ||
    last.model === 'shapley_exact' ||
    last.label === 'markov';
  const extra = last.markov
    ? `  [${last.markov.states} states, ${last.markov.method}]`
    : last.shapley
      ? `  [${last.shapley.players} players, ${last.shapley.method}]`
      : '';
  const verdict = targeted
    ? median < TARGET_MS
      ? `  (target < ${TARGET_MS} ms: met)`
      : `  (target < ${TARGET_MS} ms: MISSED)`
    : '';
  console.log(
    `${last.label.padEnd(20)} ${median.toFixed(1).padStart(8)} ms (${min.toFixed(1)})${extra}${verdict}`,
  );
  if (targeted || last.markov) {
    figures.push({
      what: `${last.label}${extra.replace(/^ +/, ' ')}`,
      value: `${median.toFixed(0)} ms (min ${min.toFixed(0)})`,
      ...(targeted ? { target: `< ${TARGET_MS} ms` } : {}),
    });
  } else ruleBased.push(median);
}
figures.unshift({
  what: `each rule-based model (${ruleBased.length})`,
  value: `${Math.min(...ruleBased).toFixed(0)}-${Math.max(...ruleBased).toFixed(0)} ms`,
});
const all = time(() => attribute(rows, { models: specs }));
console.log(
  `${'all of the above'.padEnd(20)} ${all.median.toFixed(1).padStart(8)} ms (${all.min.toFixed(1)})  [one attribute() call]`,
);
figures.push({
  what: `all ${specs.length} models in one \`attribute\` call (paths aggregated once per transform)`,
  value: `${all.median.toFixed(0)} ms (min ${all.min.toFixed(0)})`,
});
writeResults('attribution-models', {
  params: {
    ...settings,
    data: `${rows.length} distinct paths, ${touches} touches, ${journeys} journeys, ${conversions} conversions`,
    timing: `median (min) of ${settings.runs} runs after one warm-up`,
  },
  figures,
});
