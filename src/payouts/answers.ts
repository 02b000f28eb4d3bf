import {
  isFinalState,
  type PayoutAnomalyKind,
  type PayoutEvent,
  type PayoutState,
  type RelayEvent,
  type SystemEvent,
} from '../event';
import type { SaveOutcome } from '../ingest/types';
import type { Logger } from '../log';
import type { QueriedPayout } from '../skypay/status-query';
import type { DealTimeWindow } from '../skypay/time';
import type { IngestStore, PayoutStore } from '../store/store';
import type { PayoutDetail } from '../store/types';
import { interpretQueriedStatus, type QueriedMeaning } from './queried-status';
import {
  buildConfirmedEvent,
  buildMissedEvent,
  buildOutOfWindowAnomaly,
  buildReconciliationAnomaly,
  buildUnconfirmedAnomaly,
  checkAnswerTimes,
  decide,
  describeMeaning,
  type ConfirmedStatus,
} from './reconciliation';
import type { PayoutPolicy, ReconciliationOutcome } from './types';

/**
 * What a reconciliation round does with SkyPay's answer, payout by payout: each answer is read (what the status
 * means, whether its times are believable), judged against what skyrelay holds (decide() in ./reconciliation.ts),
 * and acted on: an event skyrelay missed is stored, a contradiction or an answer out of the time window raises a
 * payout.anomaly, a final status waiting for confirmation is settled. The round itself (which payouts, how many
 * calls, the cluster lock) is ./reconciler.ts.
 */

/** What acting on an answer needs of the reconciler. */
export interface AnswerDeps {
  store: Pick<PayoutStore, 'getPayouts' | 'settleConfirmation'> & Pick<IngestStore, 'savePayoutEvent' | 'saveEvent'>;
  /** skypay.statusQuery.partner: only its payouts are asked about (the query is made with its credentials). */
  partner: string;
  /** The daemon's payout policy: a missed event is judged, planned and raises anomalies like a callback. */
  policy: PayoutPolicy;
  /** skypay.timezone in minutes: the missed event's dealTimeUtc, and the instants of the answer's times. */
  offsetMinutes: number;
  /** skypay.maxAgeDays and skypay.maxFutureMinutes: the answer's times are held to the window a callback's are. */
  dealTimeWindow?: DealTimeWindow;
  logger: Logger;
  /** Told after each event stored (a missed status, an anomaly): wakes the worker, feeds metrics. */
  onStored?: (event: RelayEvent, outcome: SaveOutcome, deliveries: number) => void;
}

/** One payout's line in a round's report. */
export interface ReconcileItem {
  partner: string;
  controlNumber: string;
  /** What skyrelay held when the answer came; undefined for a payout it never saw. */
  held: PayoutState | undefined;
  status: number | null;
  statusDesc: string;
  /** What SkyPay's status means, in words. */
  meaning: string;
  outcome: ReconciliationOutcome;
  detail: string;
  /** The event created or the anomaly raised (undefined in a dry run). */
  eventId: string | null;
  /** The kind of the payout.anomaly raised for it, if one was (not in a dry run). */
  anomaly?: PayoutAnomalyKind;
}

export async function actOnAnswers(
  deps: AnswerDeps,
  asked: readonly string[],
  payouts: readonly QueriedPayout[],
  missing: readonly string[],
  unreadable: readonly { controlNumber: string | undefined; reason: string }[],
  now: Date,
  dryRun: boolean,
): Promise<ReconcileItem[]> {
  const { partner } = deps;
  const wanted = new Set(asked);
  const items: ReconcileItem[] = [];
  for (const queried of payouts) {
    // An item SkyPay sent for a control number not asked, or twice: only the first answer to a question counts.
    if (!wanted.delete(queried.controlNumber)) continue;
    items.push(await actOn(deps, queried, now, dryRun));
  }
  for (const u of unreadable) {
    if (u.controlNumber === undefined || !wanted.delete(u.controlNumber)) continue;
    items.push(note(deps, u.controlNumber, 'unreadable', `SkyPay's answer for it could not be read: ${u.reason}`));
  }
  for (const controlNumber of missing) {
    if (!wanted.delete(controlNumber)) continue;
    items.push(note(deps, controlNumber, 'missing', `left out of SkyPay's answer (${partner} may not know it)`));
  }
  return items;
}

function note(
  deps: AnswerDeps,
  controlNumber: string,
  outcome: 'unreadable' | 'missing',
  detail: string,
): ReconcileItem {
  return {
    partner: deps.partner,
    controlNumber,
    held: undefined,
    status: null,
    statusDesc: '',
    meaning: outcome === 'missing' ? 'no answer' : 'unreadable',
    outcome,
    detail,
    eventId: null,
  };
}

async function actOn(deps: AnswerDeps, queried: QueriedPayout, now: Date, dryRun: boolean): Promise<ReconcileItem> {
  const { store, partner } = deps;
  const meaning = interpretQueriedStatus(queried);
  // Read now, not from the round's listing: a callback may have moved the payout while SkyPay was answering.
  const [found] = await store.getPayouts(queried.controlNumber, partner);
  const held = found?.payout.state;
  const violation = checkAnswerTimes(queried, meaning, now, deps.dealTimeWindow ?? {}, deps.offsetMinutes);
  const decision = decide(held, meaning, { confirmation: found?.payout.confirmation, violation });
  const base = {
    partner,
    controlNumber: queried.controlNumber,
    held,
    status: queried.status,
    statusDesc: queried.statusDesc,
    meaning: describeMeaning(meaning),
  };
  switch (decision.action) {
    case 'record':
      return { ...base, outcome: decision.outcome, detail: decision.detail, eventId: null };
    case 'out-of-window': {
      const item = { ...base, outcome: 'out-of-window' as const, detail: decision.detail };
      if (dryRun) return { ...item, eventId: null };
      // A payout open for days is asked every interval: the same answer raises once, and is counted on its row.
      const latest = found?.reconciliations[found.reconciliations.length - 1];
      if (latest?.outcome === 'out-of-window' && latest.status === queried.status && latest.detail === item.detail) {
        return { ...item, eventId: latest.eventId };
      }
      const anomaly = buildOutOfWindowAnomaly(
        partner,
        queried.controlNumber,
        held,
        decision.violation,
        queried,
        meaning,
        now,
      );
      await raise(deps, anomaly, { controlNumber: queried.controlNumber, violation: decision.violation });
      return { ...item, eventId: anomaly.id, anomaly: 'out-of-window' };
    }
    case 'confirm':
      return settle(deps, found, 'confirmed', queried, meaning, now, dryRun, { ...base, detail: decision.detail });
    case 'raise': {
      if (decision.kind === 'unconfirmed') {
        return settle(deps, found, 'contradicted', queried, meaning, now, dryRun, {
          ...base,
          detail: decision.detail,
        });
      }
      if (dryRun) return { ...base, outcome: 'contradiction', detail: decision.detail, eventId: null };
      // decide() raises only against a final state skyrelay holds.
      const anomaly = buildReconciliationAnomaly(partner, queried.controlNumber, held ?? 'paid', queried, meaning, now);
      await raise(deps, anomaly, { controlNumber: queried.controlNumber, held, queriedStatus: queried.status });
      return {
        ...base,
        outcome: 'contradiction',
        detail: decision.detail,
        eventId: anomaly.id,
        anomaly: 'reconciliation',
      };
    }
    case 'create':
      break;
  }
  if (dryRun) return { ...base, outcome: 'created', detail: decision.detail, eventId: null };
  return storeMissed(deps, queried, decision, base, now);
}

/** A final status SkyPay reports that no callback brought: stored as the callback would have been, judged alike. */
async function storeMissed(
  deps: AnswerDeps,
  queried: QueriedPayout,
  decision: Extract<ReturnType<typeof decide>, { action: 'create' }>,
  base: Omit<ReconcileItem, 'outcome' | 'detail' | 'eventId'>,
  now: Date,
): Promise<ReconcileItem> {
  const { store, partner, policy } = deps;
  const event = buildMissedEvent(
    partner,
    queried.controlNumber,
    decision.payType,
    decision.dealTime,
    deps.offsetMinutes,
    now,
  );
  const outcome = await store.savePayoutEvent(event, policy);
  deps.onStored?.(event, outcome, outcome.duplicate ? 0 : 1);
  if (outcome.duplicate) {
    return { ...base, outcome: 'duplicate', detail: `${decision.detail}; already stored`, eventId: outcome.eventId };
  }
  const t = outcome.transition;
  const moved = t ? `; ${t.kind} ${t.from ?? '—'} → ${t.to}` : '';
  deps.logger.info(
    { partner, controlNumber: queried.controlNumber, status: event.status, eventId: event.id },
    'reconciliation stored a status no callback brought',
  );
  return { ...base, outcome: 'created', detail: `${decision.detail}${moved}`, eventId: event.id };
}

/**
 * SkyPay's answer settles a final status that waited for confirmation: `confirmed` stores payout.confirmed,
 * `contradicted` a payout.anomaly of kind unconfirmed, each with the payout's new confirmation in one transaction.
 * Another process (a `skyrelay reconcile` beside the daemon) may have settled it first: then nothing is stored.
 */
async function settle(
  deps: AnswerDeps,
  found: PayoutDetail | undefined,
  confirmation: 'confirmed' | 'contradicted',
  queried: QueriedPayout,
  meaning: QueriedMeaning,
  now: Date,
  dryRun: boolean,
  base: Omit<ReconcileItem, 'outcome' | 'eventId'>,
): Promise<ReconcileItem> {
  const outcome = confirmation === 'confirmed' ? 'confirmed' : 'contradiction';
  if (dryRun || !found) return { ...base, outcome, eventId: null };
  const { store, policy, partner } = deps;
  const state = found.payout.state;
  const status: ConfirmedStatus = {
    partner,
    controlNumber: queried.controlNumber,
    state,
    event: finalStatusOf(found),
  };
  const event =
    confirmation === 'confirmed'
      ? buildConfirmedEvent(status, queried, meaning, now)
      : buildUnconfirmedAnomaly(status, queried, meaning, now);
  const deliveries = policy.plan(event);
  const settled = await store.settleConfirmation({
    partner,
    controlNumber: queried.controlNumber,
    state,
    confirmation,
    event,
    deliveries,
  });
  if (!settled) return { ...base, outcome, detail: `${base.detail}; already settled`, eventId: null };
  deps.onStored?.(event, { eventId: event.id, duplicate: false, duplicates: 0 }, deliveries.length);
  if (confirmation === 'contradicted') {
    deps.logger.warn(
      {
        partner,
        controlNumber: queried.controlNumber,
        held: state,
        queriedStatus: queried.status,
        eventId: event.id,
      },
      "SkyPay's status query contradicts a final status a callback brought: payout.anomaly (unconfirmed) raised",
    );
    return { ...base, outcome, eventId: event.id, anomaly: 'unconfirmed' };
  }
  return { ...base, outcome, eventId: event.id };
}

/** Stores an anomaly of reconciliation's own (planned like any event) and logs it. */
async function raise(deps: AnswerDeps, anomaly: SystemEvent, log: Record<string, unknown>): Promise<void> {
  const deliveries = deps.policy.plan(anomaly);
  const outcome = await deps.store.saveEvent(anomaly, deliveries);
  deps.onStored?.(anomaly, outcome, deliveries.length);
  deps.logger.warn(
    { partner: deps.partner, ...log, kind: anomaly.data['kind'], eventId: anomaly.id },
    "SkyPay's status query answer raised payout.anomaly",
  );
}

/** The status event that made the payout final (the newest such, if several), while it is kept. */
function finalStatusOf(detail: PayoutDetail): PayoutEvent | undefined {
  let found: PayoutEvent | undefined;
  for (const { event } of detail.events) {
    if (event.source !== 'skypay' || event.type !== 'payout') continue;
    const t = event.transition;
    if (t && t.to === detail.payout.state && (t.from === null || !isFinalState(t.from))) found = event;
  }
  return found;
}
