import type { AttemptView } from '../store/types';

/** An attempt as the fronts list it: numbered over the delivery's whole log, with the round it belongs to. */
export interface NumberedAttempt extends AttemptView {
  /** 1, 2, 3… over every attempt on record, whatever the replays. */
  number: number;
  /** 1 for the first round; each replay starts another (its attempts count from #1 again in `attempt`). */
  round: number;
}

/**
 * A replay gives a delivery a fresh attempt budget, so the attempt numbers on record start again at 1 after it: the
 * log (oldest first) is numbered through here instead, each replay starting a new round, so no two rows read "#1".
 */
export function numberAttempts(log: readonly AttemptView[]): NumberedAttempt[] {
  let round = 1;
  return log.map((a, i) => {
    const before = log[i - 1];
    if (before !== undefined && a.attempt <= before.attempt) round += 1;
    return { ...a, number: i + 1, round };
  });
}

/**
 * How many attempts a delivery had, said the same in every front: all of them on record, and, once it was replayed,
 * how many since (`attempts`, the budget's count, starts again at each replay).
 */
export function describeAttemptCount(delivery: { attempts: number; attemptLog: readonly AttemptView[] }): string {
  const total = delivery.attemptLog.length;
  const rounds = numberAttempts(delivery.attemptLog).at(-1)?.round ?? 1;
  const count = `${total} attempt${total === 1 ? '' : 's'}`;
  return rounds > 1 ? `${count}, ${delivery.attempts} since it was last replayed` : count;
}
