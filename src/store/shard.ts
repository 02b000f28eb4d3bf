import { randomInt } from 'node:crypto';

/**
 * Which row of a kept count or summary this process writes (payout_counts, destination_activity): writers on several
 * hosts each add to a shard of their own, summed or merged when read, so a transaction never waits for another
 * host's to commit just to update the same count. Chosen once per process; two that draw the same shard only take
 * turns on its rows.
 */
export const WRITER_SHARD = randomInt(0, 64);
