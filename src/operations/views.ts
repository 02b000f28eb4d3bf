/**
 * What the operations return and take, as the fronts name them: the store's views and filters, passed through here
 * so that no front imports the store, and the features' words they come in.
 */
export type {
  AttemptView,
  DeliveryFilter,
  DeliveryView,
  DestinationActivity,
  EventDetail,
  EventFilter,
  EventSummary,
  PayoutDetail,
  RejectionFilter,
  RejectionView,
  ReplayResult,
} from '../store/types';
export type { DeliveryState } from '../delivery/types';
export type { GroupMembership, NewSilence, SilenceView, SilencedRoute } from '../alerts/types';
export type { PayoutFilter, PayoutView, ReconciliationView, StuckCutoff } from '../payouts/types';
export type { CallbackMinute, CallbackTally } from '../ingest/types';
export type { PruneCounts, PruneCutoffs } from '../retention/types';
export type { QueueState } from '../store/store';
export { CALLBACK_TALLIES } from '../ingest/types';
export { DELIVERY_STATES } from '../delivery/types';
export { stringifyEventDetail, stringifyPayoutDetail } from '../store/detail-json';
export type { Ledger, LedgerRoutes, Unexplained } from '../ledger/types';
