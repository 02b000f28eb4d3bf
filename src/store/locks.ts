/**
 * The first key of every advisory lock skyrelay takes (two-int form), one per
 * purpose, so its locks never collide with each other's or another
 * application's on the same database. The second key is 0 or hashtext(name).
 */
export const LOCK_SPACE = {
  migrations: 0x736b7901,
  /** One per destination, held while a claim counts and leases its in-flight deliveries. */
  destination: 0x736b7902,
  /** runExclusive(name): one per job name, held by the session running it. */
  job: 0x736b7903,
} as const;

/** The channel NOTIFY wakes delivery workers on (LISTEN in every instance). */
export const WORK_CHANNEL = 'skyrelay_work';
