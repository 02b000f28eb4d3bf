/**
 * What the operations return and take, as the fronts name them: the store's views and filters, passed through here
 * so that no front imports the store.
 */
export type {
  AttemptView,
  CallbackMinute,
  CallbackTally,
  DeliveryFilter,
  DeliveryState,
  DeliveryView,
  DestinationActivity,
  EventDetail,
  EventFilter,
  EventSummary,
  GroupMembership,
  NewSilence,
  PayoutDetail,
  PayoutFilter,
  PayoutView,
  PruneCounts,
  PruneCutoffs,
  RejectionFilter,
  RejectionView,
  ReplayResult,
  SilencedRoute,
  SilenceView,
  StuckCutoff,
} from '../store/types';
export type { QueueState } from '../store/store';
export { CALLBACK_TALLIES, DELIVERY_STATES } from '../store/types';
export { stringifyEventDetail, stringifyPayoutDetail } from '../store/detail-json';
