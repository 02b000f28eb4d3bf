/** Retention's vocabulary: what a prune removes before, and what it removed. */

export interface PruneCutoffs {
  eventsBeforeMs: number;
  rejectionsBeforeMs: number;
  /** Undefined: callback identities are kept forever. */
  keysBeforeMs?: number;
}

export interface PruneCounts {
  events: number;
  deliveries: number;
  attempts: number;
  rejections: number;
  /** Callback identities (dedup keys) removed. */
  keys: number;
}
