import type { Config } from '../../config/schema';
import { resolveGroupings } from '../../routing/group';
import type { Logger } from '../../log';
import { StoreBusyError } from '../../store/errors';
import type { Grouping } from '../../routing/group';
import type { GroupStore } from '../../store/store';
import type { PendingGroup } from '../types';
import { GROUP_LISTED, GROUP_NAMED, buildGroupMessage } from './message';
import { groupDueAt, isGroupDue, type GroupTiming } from './window';

export interface GroupFlusherDeps {
  store: GroupStore;
  groupings: ReadonlyMap<string, Grouping>;
  logger: Logger;
  /** A message (with its delivery) was created: the worker may send it now. */
  onFlushed: () => void;
  now?: () => number;
  /** How often to look for groups other processes filled; a group this process knows of is flushed on time. */
  pollIntervalMs?: number;
}

/** How soon to look again when another process held the write lock. */
const BUSY_RETRY_MS = 100;

/** Members of a destination that no longer groups (config changed) go out at once, in one last message. */
const NO_LONGER_GROUPED: GroupTiming = { waitMs: 0, intervalMs: 0 };

/**
 * Closes group windows: when a group is due, the store creates its message and delivery in one transaction
 * (under the group's lock, so with several processes each message is created once). Runs where deliveries are
 * sent; the worker then sends the message like any other delivery.
 */
export class GroupFlusher {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly pollIntervalMs: number;

  constructor(private readonly deps: GroupFlusherDeps) {
    this.now = deps.now ?? Date.now;
    this.pollIntervalMs = deps.pollIntervalMs ?? 500;
  }

  start(): void {
    if (this.running || this.stopping) return;
    this.running = true;
    this.schedule(0);
  }

  /** Waits for a flush under way (one transaction); a second call returns the first's promise. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      if (this.timer) clearTimeout(this.timer);
      await this.ticking;
    })();
    return this.stopping;
  }

  /** One pass: flushes every due group, and says when the next one falls due (ms epoch), if it knows. */
  async flushDue(): Promise<number | undefined> {
    const now = this.now();
    let next: number | undefined;
    for (const group of await this.deps.store.listPendingGroups()) {
      if (!this.running && this.stopping) break;
      const timing = this.deps.groupings.get(group.destination) ?? NO_LONGER_GROUPED;
      const due = groupDueAt(group, timing);
      if (due > now) {
        next = next === undefined ? due : Math.min(next, due);
        continue;
      }
      await this.flush(group, timing, now);
    }
    return next;
  }

  private async flush(group: PendingGroup, timing: GroupTiming, now: number): Promise<void> {
    const flushed = await this.deps.store.flushGroup({
      destination: group.destination,
      groupKey: group.groupKey,
      now,
      listLimit: GROUP_LISTED,
      nameLimit: GROUP_NAMED,
      isDue: (state) => isGroupDue(state, timing, now),
      build: (content) => buildGroupMessage(group.destination, group.groupKey, content, new Date(now)),
    });
    if (!flushed) return;
    this.deps.logger.info(
      { destination: group.destination, groupKey: group.groupKey, ...flushed },
      'group message created',
    );
    this.deps.onFlushed();
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick();
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let wait = this.pollIntervalMs;
    try {
      const next = await this.flushDue();
      if (next !== undefined) wait = Math.min(wait, Math.max(0, next - this.now()));
    } catch (err) {
      // Members stay in the store; the next pass tries again. A cluster peer holding the write lock is routine.
      if (err instanceof StoreBusyError) {
        this.deps.logger.debug({ code: err.code }, 'groups locked by another process');
        wait = Math.min(wait, BUSY_RETRY_MS);
      } else this.deps.logger.warn({ err }, 'could not flush groups; will try again');
    }
    this.schedule(wait);
  }
}

/** The flusher as a component: only where the worker sends (the delivery role), as only it sends the messages. */
export function groupFlusherComponent(deps: { config: Config; store: GroupStore; logger: Logger; wake: () => void }) {
  if (!deps.config.roles.includes('delivery')) return undefined;
  const groupings = resolveGroupings(deps.config.destinations);
  const flusher = new GroupFlusher({ store: deps.store, groupings, logger: deps.logger, onFlushed: deps.wake });
  return { name: 'group flusher', start: () => flusher.start(), stop: () => flusher.stop() };
}
