// Shared helpers for the benchmarks: child processes, waits, RSS sampling.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import autocannon from 'autocannon';

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
