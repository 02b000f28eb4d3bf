import type { PayoutConfirmation } from '../event';
import type { InspectStore, PayoutStore } from '../store/store';
import type {
  DeliveryFilter,
  DeliveryView,
  EventDetail,
  EventFilter,
  EventSummary,
  PayoutDetail,
  RejectionFilter,
  RejectionView,
} from '../store/types';
import type { PayoutView } from '../payouts/types';
import type { PayoutFilter } from '../payouts/types';
import { NotFoundError } from './errors';
import { readPage, type Page } from './paging';

/** A payout (partner and control number) as confirmationsOf keys it. */
export const payoutKey = (partner: string, controlNumber: string): string => JSON.stringify([partner, controlNumber]);

/** A listing's filter without its page size, which each call gives. */
export type Filter<F> = Omit<F, 'limit'>;

/** What the admin API, the dashboard and the CLI ask about events, deliveries, refused callbacks and payouts. */
export class Queries {
  constructor(private readonly store: InspectStore & PayoutStore) {}

  listEvents(filter: Filter<EventFilter>, limit: number): Promise<Page<EventSummary>> {
    return readPage(limit, (n) => this.store.listEvents({ ...filter, limit: n }));
  }

  listRejections(filter: Filter<RejectionFilter>, limit: number): Promise<Page<RejectionView>> {
    return readPage(limit, (n) => this.store.listRejections({ ...filter, limit: n }));
  }

  listDeliveries(filter: Filter<DeliveryFilter>, limit: number): Promise<Page<DeliveryView>> {
    return readPage(limit, (n) => this.store.listDeliveries({ ...filter, limit: n }));
  }

  listPayouts(filter: Filter<PayoutFilter>, limit: number): Promise<Page<PayoutView>> {
    return readPage(limit, (n) => this.store.listPayouts({ ...filter, limit: n }));
  }

  async getEvent(id: string): Promise<EventDetail> {
    const found = await this.store.getEvent(id);
    if (!found) throw new NotFoundError(`no event with id "${id}"`);
    return found;
  }

  /** An event by its id, or else every event of the payout with that control number (oldest first). */
  async findEvents(ref: string): Promise<EventDetail[]> {
    const byId = await this.store.getEvent(ref);
    const found = byId ? [byId] : await this.store.findEventsByControlNumber(ref);
    if (found.length === 0) throw new NotFoundError(`no event with id or control number "${ref}"`);
    return found;
  }

  /**
   * The current confirmation of each payout the events are statuses of, by payoutKey: it moves on after an event is
   * stored, so an event's own shows what it was then.
   */
  async confirmationsOf(events: readonly EventDetail[]): Promise<Map<string, PayoutConfirmation>> {
    const confirmations = new Map<string, PayoutConfirmation>();
    for (const { event: e } of events) {
      if (e.source !== 'skypay' || e.type !== 'payout') continue;
      const key = payoutKey(e.partner, e.controlNumber);
      if (confirmations.has(key)) continue;
      const [payout] = await this.store.getPayouts(e.controlNumber, e.partner);
      if (payout) confirmations.set(key, payout.payout.confirmation);
    }
    return confirmations;
  }

  /** The payouts a control number names: one per partner, or only `partner`'s. */
  async getPayouts(controlNumber: string, partner?: string): Promise<PayoutDetail[]> {
    const found = await this.store.getPayouts(controlNumber, partner);
    if (found.length === 0) {
      throw new NotFoundError(`no payout with control number "${controlNumber}"${partner ? ` of ${partner}` : ''}`);
    }
    return found;
  }
}
