import { completeReconciled, digestContent, identityKey, listDifferences } from '../skypay/identity';
import type { DedupRules } from '../store';

/**
 * When two callbacks are the same, as SkyPay's protocol defines it (src/skypay/identity.ts): what the store's
 * dedup executes in every transaction that stores a callback, given to it when it is opened.
 */
export const dedupRules: DedupRules = { identityKey, digestContent, completeReconciled, listDifferences };
