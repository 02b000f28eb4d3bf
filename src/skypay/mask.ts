/**
 * Rejected bodies are kept for forensics, but never with a secret in them:
 * the authentication field's value is masked wherever it appears, and so is
 * every configured secret, in case one arrives in an unexpected place.
 */
const AUTH_FIELD = /("authentication"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)/g;
const MAX_KEPT_CHARS = 16_384;

export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text.replace(AUTH_FIELD, '$1"***"');
  for (const secret of secrets) {
    if (secret.length >= 4) masked = masked.split(secret).join('***');
  }
  return masked.length > MAX_KEPT_CHARS
    ? `${masked.slice(0, MAX_KEPT_CHARS)}…[truncated ${masked.length - MAX_KEPT_CHARS} chars]`
    : masked;
}
