/**
 * In-process consumer groups: the members of a group on a topic share its
 * partitions (partition `p` goes to member `p mod n`, in join order). When a
 * member joins or leaves, partitions that change hands are first stopped at
 * their current owner (in-flight handler finished and committed) and only
 * then started at the new one, so no message is handled twice by a healthy
 * group.
 */
import type { Logger } from '@cdp/core';
import type { SubscribeOptions } from '../bus.js';
import type { OffsetStore } from './offset-store.js';
import type { PartitionLog } from './partition-log.js';
import { PartitionWorker } from './partition-worker.js';

/** A subscriber: the options it subscribed with. */
export type Member = SubscribeOptions;

interface GroupState {
  readonly topic: string;
  readonly logs: readonly PartitionLog[];
  readonly members: Member[];
  readonly owners: (Member | undefined)[];
  readonly workers: (PartitionWorker | undefined)[];
  /** Serialises rebalances of this group. */
  chain: Promise<void>;
}

/** What the coordinator needs to start workers. */
export interface CoordinatorDeps {
  readonly offsets: OffsetStore;
  readonly retryBackoffMs: number;
  readonly maxRetryBackoffMs: number;
  readonly logger: Logger;
}

/** Assigns partitions to the members of every group in this process. */
export class GroupCoordinator {
  private readonly groups = new Map<string, GroupState>();

  constructor(private readonly deps: CoordinatorDeps) {}

  /** Adds a member and rebalances; resolves once its partitions are being consumed. */
  join(member: Member, logs: readonly PartitionLog[]): Promise<void> {
    const key = `${member.group}\u0000${member.topic}`;
    let state = this.groups.get(key);
    if (state === undefined) {
      state = {
        topic: member.topic,
        logs,
        members: [],
        owners: [],
        workers: [],
        chain: Promise.resolve(),
      };
      this.groups.set(key, state);
    }
    state.members.push(member);
    return this.rebalance(state);
  }

  /** Removes a member and rebalances; resolves once its partitions were stopped (and handed on). */
  leave(member: Member): Promise<void> {
    const state = this.groups.get(`${member.group}\u0000${member.topic}`);
    if (state === undefined) return Promise.resolve();
    const i = state.members.indexOf(member);
    if (i < 0) return state.chain;
    state.members.splice(i, 1);
    return this.rebalance(state);
  }

  /** Stops every member of every group. */
  async closeAll(): Promise<void> {
    const states = [...this.groups.values()];
    for (const s of states) s.members.length = 0;
    await Promise.all(states.map((s) => this.rebalance(s)));
  }

  private rebalance(state: GroupState): Promise<void> {
    state.chain = state.chain.then(() => this.applyAssignment(state));
    return state.chain;
  }

  private async applyAssignment(state: GroupState): Promise<void> {
    const n = state.members.length;
    const wanted = state.logs.map((_, p) => (n === 0 ? undefined : state.members[p % n]));
    const moving = wanted.map((m, p) => m !== state.owners[p]);
    const stopping: Promise<void>[] = [];
    state.workers.forEach((w, p) => {
      if (moving[p] && w !== undefined) stopping.push(w.stop());
    });
    await Promise.all(stopping);
    state.logs.forEach((log, p) => {
      if (!moving[p]) return;
      const member = wanted[p];
      state.owners[p] = member;
      state.workers[p] =
        member === undefined
          ? undefined
          : new PartitionWorker({
              topic: state.topic,
              partition: p,
              log,
              offsets: this.deps.offsets,
              member,
              retryBackoffMs: this.deps.retryBackoffMs,
              maxRetryBackoffMs: this.deps.maxRetryBackoffMs,
              logger: this.deps.logger,
            });
    });
  }
}
