// Shared helpers for the benchmarks: child processes, waits, RSS sampling,
// and the figures file each bench writes.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

/** A logger that drops everything (the benches print their own lines). */
export const quiet = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
  child() {
    return quiet;
  },
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export function startChild(args, env, label) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  child.on('exit', (code, sig) => {
    if (code !== 0 && sig !== 'SIGTERM' && sig !== 'SIGKILL')
      process.stderr.write(`${label} exited ${code ?? sig}:\n${out.slice(-4000)}\n`);
  });
  return { child, output: () => out };
}

/** The all-in-one runner as `npm start` runs it, on `dataDir` and 127.0.0.1:`port`, logging warnings only. */
export function startRunner(dataDir, port, env = {}) {
  const main = fileURLToPath(new URL('../packages/platform/dist/main.js', import.meta.url));
  return startChild(
    ['--max-semi-space-size=32', main],
    {
      CDP_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      UV_THREADPOOL_SIZE: '16',
      ...env,
    },
    'platform',
  );
}

export async function waitHttp(url, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    if (Date.now() > end) throw new Error(`timeout waiting for ${url}`);
    await sleep(100);
  }
}

/** Samples a process's resident set size (MiB) until stopped; returns the peak. */
export function rssSampler(pid) {
  let peak = 0;
  const read = () => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {}
  };
  const t = setInterval(read, 200);
  read();
  return {
    stop: () => (clearInterval(t), peak),
    get peak() {
      return peak;
    },
  };
}

export function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * Writes a bench's figures to `bench/results/<name>.json`, the source that
 * `node bench/figures.mjs` turns into `bench/FIGURES.md`. `figures` is a list
 * of `{ what, value, target? }` (values already formatted, units included);
 * `params` are the settings the run used. The file also records the date,
 * the command, the machine's cores and load average, the Node version and
 * `BENCH_NOTE` if set (a remark on the run, e.g. that the machine was shared);
 * other fields (e.g. `raw`, the unformatted numbers) are kept as given.
 */
export function writeResults(name, { params = {}, figures, ...extra } = {}) {
  const cpus = os.cpus();
  const rel = relative(process.cwd(), process.argv[1]) || process.argv[1];
  const out = {
    bench: name,
    date: new Date().toISOString(),
    command: [
      // The BENCH_* settings the run had (sizes, runs, data dir), then the command.
      ...Object.entries(process.env)
        .filter(([k]) => k.startsWith('BENCH_') && k !== 'BENCH_NOTE')
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`),
      'node',
      ...process.execArgv,
      rel,
      ...process.argv.slice(2),
    ].join(' '),
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    node: process.version,
    ...(process.env.BENCH_NOTE ? { note: process.env.BENCH_NOTE } : {}),
    params,
    figures,
    ...extra,
  };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`figures written to ${relative(process.cwd(), file)}\n`);
  return out;
}
