/**
 * What the operations return and take, as the fronts name them: the store's views and filters, passed through here
 * so that no front imports the store, and the features' words they come in.
 */
export type {
  AttemptView,
  CallbackMinute,
  CallbackTally,
  DeliveryFilter,
  DeliveryView,
  DestinationActivity,
  EventDetail,
  EventFilter,
  EventSummary,
  GroupMembership,
  PayoutDetail,
  PayoutView,
  PruneCounts,
  PruneCutoffs,
  ReconciliationView,
  RejectionFilter,
  RejectionView,
  ReplayResult,
  SilencedRoute,
} from '../store/types';
export type { DeliveryState } from '../delivery/types';
export type { NewSilence, SilenceView } from '../alerts/types';
export type { PayoutFilter, StuckCutoff } from '../payouts/types';
export type { QueueState } from '../store/store';
export { CALLBACK_TALLIES } from '../store/types';
export { DELIVERY_STATES } from '../delivery/types';
export { stringifyEventDetail, stringifyPayoutDetail } from '../store/detail-json';
export type { Ledger, LedgerRoutes, Unexplained } from '../ledger/types';
