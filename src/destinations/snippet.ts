import { decodeUtf8Prefix } from '../http-client';
import { REDACTED, findSecrets } from '../scrub';
import { RESPONSE_SNIPPET_BYTES } from './types';

/** What is recorded of a receiver's answer: at most RESPONSE_SNIPPET_BYTES, never a split character. */

/** Cuts text to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateSnippet(text: string, maxBytes: number = RESPONSE_SNIPPET_BYTES): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= maxBytes ? text : decodeUtf8Prefix(bytes, maxBytes);
}

/**
 * What is kept of a receiver's answer (or a server's reply): every secret masked, then cut to `maxBytes`. Masking
 * comes first, so a secret crossing the cut is masked whole and its marker kept at the edge; cutting first would
 * keep the secret's first half. `text` should run secretLookaheadBytes past the cut where there was more.
 */
export function scrubSnippet(
  text: string,
  secrets: readonly string[],
  maxBytes: number = RESPONSE_SNIPPET_BYTES,
  marker: string = REDACTED,
): string {
  const markerBytes = Buffer.byteLength(marker);
  let out = '';
  let outBytes = 0;
  let from = 0;
  for (const match of findSecrets(text, secrets)) {
    const index = match.index ?? 0;
    const plain = text.slice(from, index);
    const plainBytes = Buffer.byteLength(plain);
    // A secret starting at or past the cut leaves nothing of itself: no marker either.
    if (outBytes + plainBytes >= maxBytes) return out + truncateSnippet(plain, maxBytes - outBytes);
    out += plain;
    outBytes += plainBytes;
    if (outBytes + markerBytes > maxBytes) {
      // The secret starts at the edge: what comes before it gives way, so the edge says a secret was there.
      return markerBytes > maxBytes ? '' : truncateSnippet(out, maxBytes - markerBytes) + marker;
    }
    out += marker;
    outBytes += markerBytes;
    from = index + match[0].length;
  }
  return out + truncateSnippet(text.slice(from), maxBytes - outBytes);
}

/** Body-reading interface of a fetch Response; lets tests and wrappers pass their own. */
interface BodySource {
  body: ReadableStream<Uint8Array> | null;
}

/**
 * Reads at most `maxBytes` of a response body and drops the rest, so a
 * receiver answering with megabytes (or streaming forever) costs us nothing.
 * Throws if the body errors, e.g. when the request's signal aborts mid-read.
 */
export async function readBodySnippet(
  response: BodySource,
  maxBytes: number = RESPONSE_SNIPPET_BYTES,
): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    // Read one byte past the limit's worth so a character split at the limit can be cut cleanly.
    while (total <= maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    // Cancelling releases the connection instead of draining what we will not read.
    reader.cancel().catch(() => undefined);
  }
  return decodeUtf8Prefix(Buffer.concat(chunks), maxBytes);
}
