import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Time-sortable ids (ULID-like, lower case): newest-first listings and
 * "since" filters can use the id order, and ids created in one millisecond by
 * several processes still never collide (80 random bits).
 */
export function createId(prefix: 'evt' | 'dlv' | 'rej' | 'cpy' | 'sil' | 'pay'): string {
  let time = Date.now();
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = ALPHABET[time % 32] + head;
    time = Math.floor(time / 32);
  }
  const random = randomBytes(10);
  let tail = '';
  for (let i = 0; i < 16; i++) {
    const bit = i * 5;
    const byte = bit >> 3;
    const word = ((random[byte] ?? 0) << 8) | (random[byte + 1] ?? 0);
    tail += ALPHABET[(word >> (11 - (bit & 7))) & 31];
  }
  return `${prefix}_${head}${tail}`;
}
