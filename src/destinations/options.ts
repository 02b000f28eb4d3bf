/** The slice of a pino-style logger destinations use; pino's Logger fits as is. */
export interface DestinationLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface DestinationOptions {
  /** Hard limit for one attempt (delivery.timeoutMs); no attempt runs past it. */
  timeoutMs: number;
  logger?: DestinationLogger;
  /** skypay.timezone: deal times in Slack and mail name it (default SkyPay's own, +08:00). */
  timezone?: string;
  /** ui.publicUrl: Slack and email messages link to the event's dashboard page under it. */
  publicUrl?: string | undefined;
  /**
   * Every configured secret (partner keys, tokens, other destinations' credentials): a receiver can echo any of
   * them, and what it answered is cut to RESPONSE_SNIPPET_BYTES only after they are masked. Each destination adds
   * its own.
   */
  secrets?: readonly string[];
  /** The clock attempts are stamped and signed by (webhook-timestamp, secrets' expiresAt); Date.now unless a test passes its own. */
  now?: () => number;
}
