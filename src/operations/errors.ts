/**
 * What an operation refuses with, one class per meaning. None knows HTTP or exit codes: each front maps them in one
 * place (src/admin/error-status.ts for the admin API and the dashboard, src/cli/context.ts for the CLI).
 */
export { FilterError } from './filters';
export { SilenceInputError } from '../alerts/silence-input';
export { DeliveryError } from '../destinations/types';
export { ReplayCountChangedError, SilenceEndedError, StoreUnavailableError } from '../store/errors';

/** What was asked for is not there (an event, a payout, a silence, a destination, the database itself). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** Could not be done now or in this state (another process holds the job, a delivery still in the queue). */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

/**
 * Re-sending delivered deliveries was asked without the count they come to: the caller shows it and asks again with
 * `confirm` set to it, so nobody re-sends more than they saw.
 */
export class ConfirmationNeededError extends Error {
  constructor(readonly count: number) {
    super(`this would requeue ${count} delivered deliveries; confirm the count to replay them`);
    this.name = 'ConfirmationNeededError';
  }
}
