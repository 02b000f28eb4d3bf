import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Random bytes per id: 80 bits, written as 16 letters of 5 bits. */
const RANDOM_BYTES = 10;
/**
 * Ids take their randomness from a pool filled this many ids at a time: each randomBytes() call costs 20-30 us on
 * the hot path (three ids per relayed callback), one call for 256 ids costs about the same as one for one.
 */
const POOL_IDS = 256;
const pool = Buffer.alloc(RANDOM_BYTES * POOL_IDS);
let used = pool.length;

/** The time part for the millisecond last asked: ids made in one millisecond share it. */
let headMs = -1;
let head = '';

function timeHead(ms: number): string {
  if (ms === headMs) return head;
  let time = ms;
  let text = '';
  for (let i = 0; i < 10; i++) {
    text = ALPHABET[time % 32] + text;
    time = Math.floor(time / 32);
  }
  headMs = ms;
  head = text;
  return text;
}

/**
 * Time-sortable ids (ULID-like, lower case): newest-first listings and
 * "since" filters can use the id order, and ids created in one millisecond by
 * several processes still never collide (80 random bits).
 */
export function createId(prefix: 'evt' | 'dlv' | 'rej' | 'cpy' | 'sil' | 'pay'): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const at = used;
  used += RANDOM_BYTES;
  let tail = '';
  for (let i = 0; i < 16; i++) {
    const bit = i * 5;
    const byte = at + (bit >> 3);
    // The last letter's second byte lies past this id's ten: its bits are shifted out below.
    const word = ((pool[byte] ?? 0) << 8) | (pool[byte + 1] ?? 0);
    tail += ALPHABET[(word >> (11 - (bit & 7))) & 31];
  }
  return `${prefix}_${timeHead(Date.now())}${tail}`;
}
