/**
 * Committed consumer-group offsets, one JSON file per group under
 * `<dir>/groups/`, replaced atomically on every commit. The offset stored is
 * the next one to consume (Kafka's convention). Commits for one group that
 * arrive while its file is being written are coalesced into the next write.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '@cdp/core';
import { createDeferred, type Deferred } from './async-utils.js';
import { TEMP_SUFFIX, writeFileAtomic } from './atomic-file.js';

interface GroupFileContent {
  readonly group: string;
  /** topic -> partition -> next offset to consume */
  readonly offsets: Record<string, Record<string, number>>;
}

/** One group's offsets and the write that persists them. */
class GroupOffsets {
  readonly offsets = new Map<string, Map<number, number>>();
  private inFlight: Promise<void> | null = null;
  private queued: Deferred | null = null;

  constructor(
    readonly group: string,
    private readonly path: string,
    private readonly durable: boolean,
  ) {}

  /** Persists the current offsets; resolves once a write that includes them finished. */
  save(): Promise<void> {
    if (this.queued !== null) return this.queued.promise;
    if (this.inFlight === null) return this.start();
    this.queued = createDeferred();
    return this.queued.promise;
  }

  /** Waits for writes in flight or queued. */
  async settle(): Promise<void> {
    while (this.inFlight !== null) await this.inFlight.catch(() => undefined);
  }

  private start(): Promise<void> {
    const content: GroupFileContent = { group: this.group, offsets: this.snapshot() };
    const write = writeFileAtomic(this.path, JSON.stringify(content), this.durable).finally(() => {
      this.inFlight = null;
      const queued = this.queued;
      if (queued !== null) {
        this.queued = null;
        this.start().then(
          () => queued.resolve(),
          (err: unknown) => queued.reject(err),
        );
      }
    });
    this.inFlight = write;
    return write;
  }

  private snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [topic, parts] of this.offsets) out[topic] = Object.fromEntries(parts);
    return out;
  }
}

/** Committed offsets of every consumer group that ever committed in this directory. */
export class OffsetStore {
  private readonly groups = new Map<string, GroupOffsets>();

  private constructor(
    private readonly dir: string,
    private readonly durable: boolean,
  ) {}

  /**
   * Loads every group file. An unreadable file is logged and ignored: that
   * group starts again from the beginning (at-least-once, never a skip).
   */
  static async open(dir: string, durable: boolean, logger: Logger): Promise<OffsetStore> {
    await mkdir(dir, { recursive: true });
    const store = new OffsetStore(dir, durable);
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      if (name.endsWith(TEMP_SUFFIX)) {
        await rm(path, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const content = JSON.parse(await readFile(path, 'utf8')) as GroupFileContent;
        const g = store.groupState(content.group);
        for (const [topic, parts] of Object.entries(content.offsets)) {
          g.offsets.set(
            topic,
            new Map<number, number>(
              Object.entries(parts).map(([p, o]): [number, number] => [Number(p), o]),
            ),
          );
        }
      } catch (err) {
        logger.error({ err, path }, 'bus_offsets_file_unreadable');
      }
    }
    return store;
  }

  /** The committed (next-to-consume) offset, or `undefined` if the group never committed there. */
  get(group: string, topic: string, partition: number): number | undefined {
    return this.groups.get(group)?.offsets.get(topic)?.get(partition);
  }

  /** Records `offset` as the next to consume and resolves once it is on disk. */
  commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    const g = this.groupState(group);
    let parts = g.offsets.get(topic);
    if (parts === undefined) {
      parts = new Map<number, number>();
      g.offsets.set(topic, parts);
    }
    parts.set(partition, offset);
    return g.save();
  }

  /**
   * The lowest committed offset for a partition over every group that has
   * committed anything on the topic (a group that knows the topic but not the
   * partition counts as 0). `undefined` when no group knows the topic.
   */
  lowestCommitted(topic: string, partition: number): number | undefined {
    let lowest: number | undefined;
    for (const g of this.groups.values()) {
      const parts = g.offsets.get(topic);
      if (parts === undefined) continue;
      const o = parts.get(partition) ?? 0;
      if (lowest === undefined || o < lowest) lowest = o;
    }
    return lowest;
  }

  /** Waits for every pending write. */
  async flush(): Promise<void> {
    for (const g of this.groups.values()) await g.settle();
  }

  private groupState(group: string): GroupOffsets {
    let g = this.groups.get(group);
    if (g === undefined) {
      g = new GroupOffsets(group, join(this.dir, groupFileName(group)), this.durable);
      this.groups.set(group, g);
    }
    return g;
  }
}

/** A readable, filesystem-safe file name for a group (hashed when long). */
function groupFileName(group: string): string {
  const safe = encodeURIComponent(group).replace(/\*/g, '%2A');
  if (safe.length <= 120 && !safe.startsWith('.')) return `${safe}.json`;
  return `${createHash('sha256').update(group).digest('hex')}.json`;
}
