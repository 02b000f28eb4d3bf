import { scrubSecrets } from '../scrub';

/**
 * Rejected bodies are kept for forensics, but never with a secret in them:
 * the authentication field's value is scrubbed wherever it appears, and so is
 * every configured secret, in case one arrives in an unexpected place.
 */
const AUTH_FIELD = /("authentication"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)/g;
const MAX_KEPT_CHARS = 16_384;

/** Text a sender wrote (a callback body, a claimed partner, a description quoting it), made fit to keep. */
export function scrubSenderText(text: string, secrets: readonly string[]): string {
  const scrubbed = scrubSecrets(text.replace(AUTH_FIELD, '$1"***"'), secrets, '***');
  return scrubbed.length > MAX_KEPT_CHARS
    ? `${scrubbed.slice(0, MAX_KEPT_CHARS)}…[truncated ${scrubbed.length - MAX_KEPT_CHARS} chars]`
    : scrubbed;
}
