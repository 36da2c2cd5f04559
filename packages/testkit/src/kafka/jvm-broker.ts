import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.js';
import { processAlive } from './file-lock.js';
import type { KafkaHandle } from './handle.js';
import { probeKafka, tcpAnswers, warmUpKafka } from './probe.js';

export interface JvmBrokerOptions {
  /** Directory of the broker's jars (see `fetchKafkaLibs`). */
  readonly libsDir: string;
  /** Java executable (default `$JAVA_HOME/bin/java`, else `java` on PATH). */
  readonly java?: string;
  /**
   * JVM flags for the broker (default: 256-512 MB heap, serial GC). The
   * machine running tests may have two cores, so keep it small.
   */
  readonly jvmArgs?: readonly string[];
  /** Extra or overriding `server.properties` entries. */
  readonly properties?: Readonly<Record<string, string | number | boolean>>;
  /** Give up when the broker is not serving after this long (default 90 s). */
  readonly startTimeoutMs?: number;
  /** After SIGTERM, wait this long before SIGKILL (default 10 s). */
  readonly stopTimeoutMs?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export const DEFAULT_BROKER_JVM_ARGS: readonly string[] = [
  '-Xms256m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];

const TEMP_PREFIX = 'cdp-kafka-';
const LISTENER_TRIES = 3;

/**
 * Starts a single-node Apache Kafka (KRaft, broker and controller in one JVM)
 * from the jars in `libsDir`, on free loopback ports, with its data and log in
 * a fresh temp directory. Resolves once an admin client can describe the
 * cluster; `stop()` sends SIGTERM, then SIGKILL, and removes the directory.
 */
export async function startJvmBroker(opts: JvmBrokerOptions): Promise<KafkaHandle> {
  await reapOrphans(opts.log);
  let lastError: unknown;
  for (let attempt = 1; attempt <= LISTENER_TRIES; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastError = err;
      // A port picked by freePort() can be taken before the JVM binds it.
      if (!(err instanceof BrokerStartError && err.portClash)) throw err;
      opts.log?.(`kafka: port clash on attempt ${attempt}, retrying with new ports`);
    }
  }
  throw lastError;
}

/** Startup failure; `message` ends with the tail of the broker's log. */
export class BrokerStartError extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BrokerStartError';
  }
}

async function startOnce(opts: JvmBrokerOptions): Promise<KafkaHandle> {
  const started = Date.now();
  const java =
    opts.java ??
    (process.env['JAVA_HOME'] ? join(process.env['JAVA_HOME'], 'bin', 'java') : 'java');
  const dir = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
  const logFile = join(dir, 'broker.log');
  const classpath = join(opts.libsDir, '*');
  const log4j = join(dir, 'log4j2.properties');
  let child: ChildProcess | undefined;
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  try {
    const brokerPort = await freePort();
    let controllerPort = await freePort();
    while (controllerPort === brokerPort) controllerPort = await freePort();
    const brokers = [`127.0.0.1:${brokerPort}`];

    const props: Record<string, string | number | boolean> = {
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}`,
      listeners: `PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${brokerPort}`,
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'log.dirs': join(dir, 'data'),
      'num.partitions': 4,
      'default.replication.factor': 1,
      'min.insync.replicas': 1,
      'auto.create.topics.enable': true,
      'offsets.topic.replication.factor': 1,
      // Fewer internal partitions: the first group join and the first
      // idempotent producer wait for these to be created and loaded.
      'offsets.topic.num.partitions': 4,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      'transaction.state.log.num.partitions': 4,
      'share.coordinator.state.topic.replication.factor': 1,
      'share.coordinator.state.topic.min.isr': 1,
      'share.coordinator.state.topic.num.partitions': 1,
      'group.initial.rebalance.delay.ms': 0,
      // Small thread pools and buffers: a test broker on a small machine.
      'num.network.threads': 2,
      'num.io.threads': 4,
      'background.threads': 2,
      'num.recovery.threads.per.data.dir': 1,
      'log.cleaner.threads': 1,
      'log.cleaner.dedupe.buffer.size': 8 * 1024 * 1024,
      'auto.leader.rebalance.enable': false,
      ...opts.properties,
    };
    const serverProperties = join(dir, 'server.properties');
    await writeFile(
      serverProperties,
      Object.entries(props)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join('\n') + '\n',
    );
    await writeFile(log4j, LOG4J2_PROPERTIES);
    await writeFile(join(dir, 'owner.json'), JSON.stringify({ ownerPid: process.pid, dir }));

    // Format the metadata log: a new cluster id, and this node as the sole
    // voter of a dynamic quorum (--standalone needs controller.quorum.bootstrap.servers).
    await runToCompletion(
      'kafka.tools.StorageTool format',
      java,
      [
        '-Xmx128m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        `-Dlog4j2.configurationFile=${log4j}`,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '--standalone',
        '--cluster-id',
        clusterId(),
        '--config',
        serverProperties,
      ],
      60_000,
    );

    const formatted = Date.now();
    const logFd = openSync(logFile, 'a');
    try {
      child = spawn(
        java,
        [
          ...(opts.jvmArgs ?? DEFAULT_BROKER_JVM_ARGS),
          `-Dlog4j2.configurationFile=${log4j}`,
          '-cp',
          classpath,
          'kafka.Kafka',
          serverProperties,
        ],
        { stdio: ['ignore', logFd, logFd], cwd: dir },
      );
    } finally {
      closeSync(logFd);
    }
    const broker = child;
    const spawnError = new Promise<Error>((resolve) => broker.once('error', resolve));
    let failedToSpawn: Error | undefined;
    void spawnError.then((e) => (failedToSpawn = e));
    if (broker.pid !== undefined) {
      await writeFile(
        join(dir, 'owner.json'),
        JSON.stringify({ ownerPid: process.pid, brokerPid: broker.pid, dir }),
      );
    }

    const deadline = started + (opts.startTimeoutMs ?? 90_000);
    let lastProbe: unknown;
    let listening = 0;
    for (;;) {
      if (failedToSpawn)
        throw new BrokerStartError(`could not run ${java}: ${failedToSpawn.message}`, false, {
          cause: failedToSpawn,
        });
      if (broker.exitCode !== null || broker.signalCode !== null) {
        const tail = await logTail(logFile);
        throw new BrokerStartError(
          `Kafka broker exited during startup (${broker.signalCode ?? `exit ${String(broker.exitCode)}`}); log ${logFile}:\n${tail}`,
          /Address already in use|BindException/.test(tail),
        );
      }
      if (await tcpAnswers('127.0.0.1', brokerPort, 500)) {
        listening ||= Date.now();
        try {
          await probeKafka(brokers, 3_000);
          break;
        } catch (err) {
          lastProbe = err;
        }
      }
      if (Date.now() > deadline) {
        throw new BrokerStartError(
          `Kafka broker not serving on ${brokers.join(',')} after ${Date.now() - started} ms (last probe: ${describe(lastProbe)}); log ${logFile}:\n${await logTail(logFile)}`,
          false,
          { cause: lastProbe },
        );
      }
      await sleep(150);
    }
    const served = Date.now();
    await warmUpKafka(brokers, Math.max(10_000, deadline - served));
    const now = Date.now();
    opts.log?.(
      `kafka: broker ${brokers.join(',')} up in ${now - started} ms (format ${formatted - started}, listen ${listening - formatted}, serve ${served - listening}, groups ${now - served}; pid ${String(broker.pid)}, dir ${dir})`,
    );

    let stopping: Promise<void> | undefined;
    return {
      kind: 'jvm',
      brokers,
      logFile,
      stop: () =>
        (stopping ??= (async () => {
          await terminate(broker, opts.stopTimeoutMs ?? 10_000);
          process.removeListener('exit', killOnExit);
          await rm(dir, { recursive: true, force: true, maxRetries: 3 });
        })()),
    };
  } catch (err) {
    if (child) await terminate(child, 2_000);
    process.removeListener('exit', killOnExit);
    // Keep the directory when startup failed, so its log can be read.
    if (!(err instanceof BrokerStartError)) await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

const LOG4J2_PROPERTIES = `# Broker log for tests: warnings and the startup line only.
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = STDOUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
`;

/** A Kafka cluster id: 16 random bytes, base64url, never starting with '-' (it would read as a flag). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function runToCompletion(
  label: string,
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (chunk: Buffer): void => {
      out = (out + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new BrokerStartError(
          err.code === 'ENOENT'
            ? `Java ("${cmd}") not found: install a JDK 17+ or set JAVA_HOME`
            : `could not run ${cmd}: ${err.message}`,
          false,
          { cause: err },
        ),
      );
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new BrokerStartError(
            `${label} failed (${signal ?? `exit ${String(code)}`}):\n${out.trim()}`,
            false,
          ),
        );
    });
  });
}

async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  if (await within(exited, graceMs)) return;
  child.kill('SIGKILL');
  await within(exited, 5_000);
}

/** Whether `p` settles within `ms`; the timer does not outlive it (it would hold the process open). */
async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function logTail(file: string, lines = 40): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Removes broker temp dirs whose owning process is gone (a test run that was
 * killed), killing their JVM first. The JVM is killed only if its command
 * line still names that dir, so a recycled pid is left alone.
 */
async function reapOrphans(log?: (line: string) => void): Promise<void> {
  let entries: string[];
  try {
    entries = (await readdir(tmpdir())).filter((e) => e.startsWith(TEMP_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = join(tmpdir(), entry);
    let owner: { ownerPid?: unknown; brokerPid?: unknown };
    try {
      owner = JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8')) as typeof owner;
    } catch {
      continue; // not ours, or still being written
    }
    if (typeof owner.ownerPid !== 'number' || processAlive(owner.ownerPid)) continue;
    if (
      typeof owner.brokerPid === 'number' &&
      processAlive(owner.brokerPid) &&
      cmdlineMentions(owner.brokerPid, dir)
    ) {
      try {
        process.kill(owner.brokerPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(dir, { recursive: true, force: true });
    log?.(`kafka: removed orphaned broker dir ${dir}`);
  }
}

function cmdlineMentions(pid: number, text: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : err === undefined ? 'none' : JSON.stringify(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
