/** What a masked secret reads as in recorded attempts, logs and alerts. */
export const REDACTED = '[redacted]';

/** Shorter values would shred ordinary text wherever they happen to occur. */
export const MIN_SECRET_CHARS = 4;

/**
 * The one secret masker: every occurrence of every configured secret in
 * `text` becomes `marker`. Pass secrets longest first (collectSecrets does),
 * so a URL is replaced whole before a part of it is.
 */
export function maskSecrets(text: string, secrets: readonly string[], marker: string = REDACTED): string {
  let masked = text;
  for (const secret of secrets) if (secret.length >= MIN_SECRET_CHARS) masked = masked.split(secret).join(marker);
  return masked;
}
