// Identity resolver benchmark: in-process link throughput and memory of the
// OneID graph (@cdp/identity), on a generated stream of events.
//
//   npx tsc -b packages/identity
//   node --expose-gc bench/identity-resolver.mjs [--persons 200000] [--seed 42] [--raw-events 200000]
//
// Prints the generator settings, identifier links per second through
// `graph.resolve` (identifiers already normalised, as the resolver receives
// them), events per second through `extractIdentifiers` + `resolve` from raw
// `cdp.events.raw` messages (hashing and phone parsing included), and the heap
// the graph holds per million identifiers (after `global.gc()`).
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  createIdentityGraph,
  createIdentityRules,
  extractIdentifiers,
  normaliseIdentifier,
} from '../packages/identity/dist/index.js';
import { writeResults } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    persons: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '42' },
    'raw-events': { type: 'string', default: '200000' },
  },
});

const settings = {
  seed: Number(args.seed),
  persons: Number(args.persons),
  anonymousIdsPerPerson: 'geometric, mean 2.5 (cookies cleared, browsers)',
  devicesPerPerson: '1 + 30% a second device',
  eventsPerAnonymousId: 'uniform 1..12 (page/track)',
  loginShare: 0.6,
  emailShareOfLoggedIn: 0.6,
  phoneShareOfLoggedIn: 0.3,
  externalIdShare: 0.1,
  sharedTabletShare: 0.02,
  junkAnonymousIdShare: 0.01,
  phoneFormats: ['+44 20 7xxx xxxx', '020 7xxx xxxx', '0044 20 7xxx xxxx'],
  emailFormats: ['name@example.com', ' Name@Example.COM '],
  defaultRegion: 'GB',
};

// Mulberry32: small, seeded, deterministic.
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
const rand = prng(settings.seed);
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const hex = (n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += ((rand() * 16) | 0).toString(16);
  return s;
};
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;

const rules = createIdentityRules({ defaultRegion: settings.defaultRegion });

/** Raw Segment calls per person, in the order that person sends them. */
function generatePerson(i, tablets) {
  const calls = [];
  const anon = [uuid()];
  while (rand() < 0.6) anon.push(uuid());
  const devices = [uuid()];
  if (rand() < 0.3) devices.push(uuid());
  const loggedIn = rand() < settings.loginShare;
  const userId = `user-${i}`;
  const email =
    loggedIn && rand() < settings.emailShareOfLoggedIn ? `person${i}@example.com` : undefined;
  // London numbers 020 7xxx xxxx, one per person.
  const local = String(70_000_000 + i);
  const phoneDigits = `${local.slice(0, 4)} ${local.slice(4)}`;
  const phone = loggedIn && rand() < settings.phoneShareOfLoggedIn ? phoneDigits : undefined;
  const external = rand() < settings.externalIdShare ? `buyer-${i}` : undefined;
  const shared =
    rand() < settings.sharedTabletShare && tablets.length > 0
      ? tablets[int(0, tablets.length - 1)]
      : undefined;
  if (loggedIn && rand() < 0.1) tablets.push(anon[0]);
  for (const a of anon) {
    const device = devices[int(0, devices.length - 1)];
    const n = int(1, 12);
    for (let k = 0; k < n; k++) {
      const junk = rand() < settings.junkAnonymousIdShare;
      calls.push({
        type: rand() < 0.7 ? 'page' : 'track',
        event: { anonymousId: junk ? 'null' : a, context: { device: { id: device } } },
      });
    }
    if (loggedIn) {
      const traits = {};
      if (email)
        traits.email =
          rand() < 0.5
            ? email
            : ` ${email.replace('person', 'Person').replace('example', 'Example')} `;
      if (phone) {
        const f = int(0, 2);
        traits.phone = f === 0 ? `+44 20 ${phone}` : f === 1 ? `020 ${phone}` : `0044 20 ${phone}`;
      }
      const context = { device: { id: device } };
      if (external)
        context.externalIds = [{ id: external, type: 'shop_buyer_id', collection: 'users' }];
      calls.push({ type: 'identify', event: { userId, anonymousId: a, traits, context } });
    }
  }
  if (shared !== undefined && loggedIn) {
    // Logs in on a family tablet whose browser already belongs to someone else.
    calls.push({ type: 'identify', event: { userId, anonymousId: shared } });
  }
  return calls;
}

function generateStream() {
  const tablets = [];
  const queues = [];
  for (let i = 0; i < settings.persons; i++) queues.push(generatePerson(i, tablets));
  // Interleave persons: each step takes the next call of a random person.
  const live = queues.map((q, i) => i);
  const pos = new Array(queues.length).fill(0);
  const messages = [];
  while (live.length > 0) {
    const j = int(0, live.length - 1);
    const q = live[j];
    // Through JSON, as a consumer gets it off the bus (flat strings, no shared parents).
    messages.push(JSON.parse(JSON.stringify(queues[q][pos[q]++])));
    if (pos[q] === queues[q].length) {
      live[j] = live[live.length - 1];
      live.pop();
    }
  }
  return messages;
}

const gc = globalThis.gc;
if (typeof gc !== 'function') {
  console.error('run with: node --expose-gc bench/identity-resolver.mjs');
  process.exit(1);
}
// The graph's columns are typed arrays, whose memory is outside the JS heap.
const heap = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const baseline = heap();
console.log('cpus', os.cpus().length, os.cpus()[0]?.model ?? '');
console.log('node', process.version);
console.log('generator', JSON.stringify(settings, null, 2));

let messages = generateStream();
// Normalise outside the timed loop: the resolver receives normalised ids.
const t0n = performance.now();
const rejected = {};
let inputs = messages.map((m, i) => {
  const x = extractIdentifiers(m, rules);
  for (const r of x.rejected) rejected[r.reason] = (rejected[r.reason] ?? 0) + 1;
  return { identifiers: x.identifiers, junk: x.junk, at: 1_700_000_000_000 + i * 10, kind: m.type };
});
const normaliseMs = performance.now() - t0n;
const inputs0 = { events: inputs.length };
let links = 0;
for (const x of inputs) links += x.identifiers.length;
console.log(
  `stream: ${messages.length} events, ${links} identifier occurrences (extract+normalise: ${(messages.length / (normaliseMs / 1000)).toFixed(0)} events/s)`,
);
console.log('rejected by extraction:', JSON.stringify(rejected));

const graph = createIdentityGraph(rules);
let merges = 0;
let refusals = 0;
let created = 0;
const t0 = performance.now();
for (const x of inputs) {
  const o = graph.resolve(x);
  merges += o.merges.length;
  refusals += o.refusals.length;
  if (o.created) created++;
}
const ms = performance.now() - t0;
const stats = graph.stats();
console.log(
  `resolve: ${inputs.length} events in ${ms.toFixed(0)} ms = ${(links / (ms / 1000)).toFixed(0)} identifier links/s (${(inputs.length / (ms / 1000)).toFixed(0)} events/s)`,
);
console.log(
  `graph: ${stats.persons} persons, ${stats.identifiers} identifiers, ${created} created, ${merges} merges, ${refusals} refusals ${JSON.stringify(stats.refusals)}, junk ${JSON.stringify(stats.junk)}`,
);
// Lookups: the stamper's path.
const probes = inputs.slice(0, 1_000_000).flatMap((x) => x.identifiers);
const probesCount = probes.length;
const t0l = performance.now();
let hits = 0;
for (const p of probes) if (graph.lookup(p) !== undefined) hits++;
const lms = performance.now() - t0l;
console.log(
  `lookup: ${probes.length} lookups, ${hits} hits, ${(probes.length / (lms / 1000)).toFixed(0)} lookups/s`,
);

// Snapshot round trip.
const t0e = performance.now();
let snap = graph.export();
const ems = performance.now() - t0e;
const exportRows = snap.identities.length;
console.log(
  `export: ${snap.identities.length} identity rows, ${snap.overrides.length} override rows in ${ems.toFixed(0)} ms`,
);
snap = undefined;

// End to end from raw messages, on a fresh graph.
const rawCount = Math.min(Number(args['raw-events']), messages.length);
let g2 = createIdentityGraph(rules);
const t0r = performance.now();
let rawLinks = 0;
for (let i = 0; i < rawCount; i++) {
  const m = messages[i];
  const x = extractIdentifiers(m, rules);
  rawLinks += x.identifiers.length;
  g2.resolve({ ...x, at: 1_700_000_000_000 + i * 10, kind: m.type });
}
const rms = performance.now() - t0r;
// The same events resolved from pre-normalised identifiers, on a fresh graph:
// the start of a stream creates more persons than its steady state.
g2 = createIdentityGraph(rules);
const t0s = performance.now();
for (let i = 0; i < rawCount; i++) g2.resolve(inputs[i]);
const sms = performance.now() - t0s;
console.log(
  `extract+resolve from raw messages: ${rawCount} events in ${rms.toFixed(0)} ms = ${(rawCount / (rms / 1000)).toFixed(0)} events/s, ${(rawLinks / (rms / 1000)).toFixed(0)} identifier links/s (resolve alone on the same events: ${(rawCount / (sms / 1000)).toFixed(0)} events/s)`,
);
// A sanity check of the normaliser: one phone in three formats.
const same = ['+44 20 7946 0958', '020 7946 0958', '0044 20 7946 0958'].map(
  (p) => normaliseIdentifier('phone', p, rules).identifier?.value,
);
console.log(
  'phone formats agree:',
  same.every((v) => v === same[0]),
);

// The graph's own heap: everything else is released first. Values are the
// strings the events carried, so they count here, as they would in a service.
g2 = undefined;
messages = undefined;
inputs = undefined;
probes.length = 0;
const after = heap();
// Keeps the graph reachable until after the measurement.
const liveIdentifiers = graph.stats().identifiers;
const perMillion = ((after - baseline) / liveIdentifiers) * 1e6;
console.log(
  `memory: ${((after - baseline) / 2 ** 20).toFixed(1)} MiB (heap + array buffers) for ${liveIdentifiers} identifiers = ${(perMillion / 2 ** 20).toFixed(1)} MiB per million identifiers (${((after - baseline) / liveIdentifiers).toFixed(0)} bytes each)`,
);

const k = (n) => Math.round(n).toLocaleString('en-US');
writeResults('identity-resolver', {
  params: {
    ...settings,
    rawEvents: rawCount,
    stream: `${k(inputs0.events)} events, ${k(links)} identifier occurrences, ${k(liveIdentifiers)} distinct identifiers`,
  },
  figures: [
    {
      what: '`resolve` on normalised identifiers',
      value: `${k(links / (ms / 1000))} identifier links/s (${k(inputs0.events / (ms / 1000))} events/s)`,
    },
    { what: '`lookup` (random, cold caches)', value: `${k(probesCount / (lms / 1000))}/s` },
    {
      what: `\`extractIdentifiers\` + \`resolve\` from raw messages (SHA-256, phone parsing), first ${k(rawCount)} events`,
      value: `${k(rawCount / (rms / 1000))} events/s (\`resolve\` alone on the same events: ${k(rawCount / (sms / 1000))}/s)`,
    },
    {
      what: 'extract + normalise alone',
      value: `${k(inputs0.events / (normaliseMs / 1000))} events/s`,
    },
    {
      what: 'memory (heap + array buffers, after `gc()`)',
      value: `${(perMillion / 2 ** 20).toFixed(0)} MiB per million identifiers (${((after - baseline) / liveIdentifiers).toFixed(0)} bytes each, values included)`,
    },
    {
      what: `\`export()\` of ${(exportRows / 1e6).toFixed(2)} M rows`,
      value: `${(ems / 1000).toFixed(2)} s`,
    },
  ],
});
