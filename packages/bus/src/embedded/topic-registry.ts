/**
 * The topics of an embedded bus: `<dir>/topics/<topic>/topic.json` holds the
 * partition count, and `<dir>/topics/<topic>/<partition>/` the segment files.
 */
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CdpError } from '@cdp/core';
import { writeFileAtomic } from './atomic-file.js';
import { PartitionLog, type PartitionLogOptions } from './partition-log.js';
import { createPartitioner, type Partitioner } from './partitioner.js';

/** Kafka's rule for topic names, which also keeps them safe as directory names. */
const TOPIC_NAME_RE = /^[a-zA-Z0-9._-]{1,249}$/;

/** An open topic. */
export interface Topic {
  readonly name: string;
  readonly logs: readonly PartitionLog[];
  readonly partitioner: Partitioner;
}

/** Settings shared by every partition log: a partition log's, less which one it is. */
export type TopicRegistryOptions = Omit<PartitionLogOptions, 'topic' | 'partition'>;

/** Opens, creates and closes the topics of one data directory. */
export class TopicRegistry {
  private readonly topics = new Map<string, Topic>();
  private readonly creating = new Map<string, Promise<Topic>>();

  private constructor(private readonly opts: TopicRegistryOptions) {}

  /** Opens every topic found in the directory, recovering each partition's journal. */
  static async open(opts: TopicRegistryOptions): Promise<TopicRegistry> {
    const reg = new TopicRegistry(opts);
    const root = join(opts.dir, 'topics');
    await mkdir(root, { recursive: true });
    for (const name of await readdir(root)) {
      if (!TOPIC_NAME_RE.test(name) || name === '.' || name === '..') continue;
      let meta: { partitions: number };
      try {
        meta = JSON.parse(await readFile(join(root, name, 'topic.json'), 'utf8')) as {
          partitions: number;
        };
      } catch (err) {
        // A crash between mkdir and the metadata rename: the topic never
        // existed for any producer, so there is nothing in it to recover.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      reg.topics.set(name, await reg.openTopic(name, meta.partitions));
    }
    return reg;
  }

  /** The open topic, or `undefined`. */
  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  /** Every open topic. */
  all(): IterableIterator<Topic> {
    return this.topics.values();
  }

  /**
   * The topic, created with `partitions` partitions if it does not exist.
   * An existing topic keeps its partition count (a different request is
   * logged, not applied: moving keys between partitions would break ordering).
   */
  async ensure(name: string, partitions: number): Promise<Topic> {
    const existing = this.topics.get(name);
    if (existing !== undefined) {
      if (existing.logs.length !== partitions) {
        this.opts.logger.warn(
          { topic: name, existing: existing.logs.length, requested: partitions },
          'bus_topic_partition_count_kept',
        );
      }
      return existing;
    }
    validateTopicName(name);
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > 10_000) {
      throw new CdpError('CDP_ERR_CONFIG_INVALID', {
        message: `Topic ${name}: partitions must be an integer from 1 to 10000`,
        field: 'partitions',
      });
    }
    let pending = this.creating.get(name);
    if (pending === undefined) {
      pending = this.create(name, partitions).finally(() => this.creating.delete(name));
      this.creating.set(name, pending);
    }
    return pending;
  }

  /** Closes every partition log (writes what is queued, fsyncs, closes files). */
  async close(): Promise<void> {
    await Promise.all([...this.creating.values()].map((p) => p.catch(() => undefined)));
    const results = await Promise.allSettled(
      [...this.topics.values()].flatMap((t) => t.logs.map((l) => l.close())),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  private async create(name: string, partitions: number): Promise<Topic> {
    const dir = join(this.opts.dir, 'topics', name);
    await mkdir(dir, { recursive: true });
    const topic = await this.openTopic(name, partitions);
    // The metadata goes last: a topic directory without it is ignored on open.
    await writeFileAtomic(join(dir, 'topic.json'), JSON.stringify({ name, partitions }), true);
    this.topics.set(name, topic);
    this.opts.logger.info({ topic: name, partitions }, 'bus_topic_created');
    return topic;
  }

  private async openTopic(name: string, partitions: number): Promise<Topic> {
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitions; p++) {
      logs.push(
        await PartitionLog.open({
          topic: name,
          partition: p,
          dir: join(this.opts.dir, 'topics', name, String(p)),
          fsync: this.opts.fsync,
          segmentBytes: this.opts.segmentBytes,
          readChunkBytes: this.opts.readChunkBytes,
          budget: this.opts.budget,
          logger: this.opts.logger,
        }),
      );
    }
    return { name, logs, partitioner: createPartitioner(partitions) };
  }
}

/** Throws `CDP_ERR_CONFIG_INVALID` for names Kafka would refuse. */
export function validateTopicName(name: string): void {
  if (typeof name !== 'string' || !TOPIC_NAME_RE.test(name) || name === '.' || name === '..') {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: `Invalid topic name ${JSON.stringify(name)}: use 1-249 of a-z A-Z 0-9 . _ -`,
      field: 'topic',
    });
  }
}
