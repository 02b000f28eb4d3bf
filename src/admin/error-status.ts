import {
  ConfirmationNeededError,
  FilterError,
  NotFoundError,
  RefusedError,
  ReplayCountChangedError,
  SilenceEndedError,
  SilenceInputError,
  StoreUnavailableError,
} from '../operations/errors';

/**
 * The HTTP status of what an admin API or dashboard request threw: bad input is 400, something not there 404, a
 * refusal of the current state 409, a store that cannot answer 503 (as for callbacks: only HTTP maps the store's
 * errors to a status), an error carrying a 4xx or 5xx its own, anything else 500.
 */
export function statusOfError(err: unknown): number {
  const status =
    err instanceof FilterError || err instanceof SilenceInputError || err instanceof ConfirmationNeededError
      ? 400
      : err instanceof NotFoundError
        ? 404
        : err instanceof RefusedError || err instanceof ReplayCountChangedError || err instanceof SilenceEndedError
          ? 409
          : err instanceof StoreUnavailableError
            ? 503
            : ((err as { status?: number }).status ?? 500);
  return status >= 400 && status < 600 ? status : 500;
}
