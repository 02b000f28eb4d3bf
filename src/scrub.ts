/** What a scrubbed secret reads as in recorded attempts, logs and alerts. */
export const REDACTED = '[redacted]';

/** Shorter values would shred ordinary text wherever they happen to occur. */
export const MIN_SECRET_CHARS = 4;

/**
 * Base64 and hex forms shorter than this are not looked for: a few base64 characters matched without regard to
 * case turn up in ordinary words. Secrets long enough to matter have forms far longer.
 */
export const MIN_ENCODED_CHARS = 8;

/**
 * The encoded forms a secret can be echoed in. Base64 of the secret depends on where it starts in the encoded
 * bytes (3 alignments): for each, the characters that depend on the secret's bytes alone, in the standard and the
 * URL-safe alphabet. Hex is one form: matching ignores case, so upper- and lower-case hex are both found.
 */
export function listEncodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>();
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Base64 character i carries bits [6i, 6i + 6); the secret's bits are [8 * offset, 8 * (offset + length)).
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const stable = encoded.slice(first, end);
    forms.add(stable);
    forms.add(stable.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  forms.add(bytes.toString('hex'));
  return [...forms].filter((form) => form.length >= MIN_ENCODED_CHARS);
}

/** Every secret and every encoded form of it, longest first, so a URL is replaced whole before its path is. */
function listForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_CHARS) continue;
    forms.add(secret);
    for (const form of listEncodedForms(secret)) forms.add(form);
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Matcher {
  pattern: RegExp | undefined;
  /** The longest a match can be, in UTF-8 bytes: how far past a cut one must read to see a secret whole. */
  longestBytes: number;
}

/** One pattern per list of secrets; lists are built once at start, so this is compiled once for each. */
const matchers = new WeakMap<readonly string[], Matcher>();

function matcherOf(secrets: readonly string[]): Matcher {
  let matcher = matchers.get(secrets);
  if (matcher === undefined) {
    const forms = listForms(secrets);
    matcher = {
      // Case is ignored: a receiver (or a library) may echo a secret upper- or lower-cased. Not 'u': Unicode
      // case folding made scrubbing a 1 MB body 3-5x slower, and secrets are configured ASCII in practice.
      pattern: forms.length === 0 ? undefined : new RegExp(forms.map(escapeRegExp).join('|'), 'gi'),
      longestBytes: Math.max(0, ...forms.map((form) => Buffer.byteLength(form.toUpperCase()))),
    };
    matchers.set(secrets, matcher);
  }
  return matcher;
}

/**
 * The one secret scrubber (a destination's field `mask` is another thing: src/destinations/masking.ts): every occurrence of every configured secret in `text`, in any case, and of its base64
 * and hex forms, becomes `marker`.
 */
export function scrubSecrets(text: string, secrets: readonly string[], marker: string = REDACTED): string {
  const { pattern } = matcherOf(secrets);
  return pattern === undefined ? text : text.replace(pattern, () => marker);
}

/** Where the secrets (in any case, and their encoded forms) occur in `text`, first to last, as scrubSecrets sees them. */
export function findSecrets(text: string, secrets: readonly string[]): Iterable<RegExpMatchArray> {
  const { pattern } = matcherOf(secrets);
  return pattern === undefined ? [] : text.matchAll(pattern);
}

/**
 * How many bytes past a cut must be read so that a secret that starts before the cut is seen whole (and scrubbed
 * whole): the longest secret, or encoded form of one, in UTF-8.
 */
export function secretLookaheadBytes(secrets: readonly string[]): number {
  return matcherOf(secrets).longestBytes;
}
