import type { CallbackEvent, RelayEvent } from '../event';
import { FINANCE_ACTION, normalizeFinance } from '../skypay/finance';
import { normalizeCallback } from '../skypay/normalize';
import type { Partner } from '../skypay/partners';
import { buildReply, encodeReply, SUCCESS_CODE } from '../skypay/reply';
import type { CallbackStruct } from '../skypay/validate';
import type { IngestStore } from '../store/store';
import type { IngestLease, NewDelivery } from '../delivery/types';
import type { PayoutPolicy } from '../payouts/types';
import type { SaveOutcome, AcknowledgedOutcome } from './types';
import { authenticateCallback } from './authenticate';
import { readBodyWithin, type BodyLimits, type BodySource } from './body';
import { requireSafeBody } from './body-shape';
import { requireCallbackContentType, type CallbackMediaType } from './content-type';
import { checkDealTimeWindow, type DealTimeWindow } from './deal-time-window';
import { openBody, type OpenedBody } from './open';
import { toRejection, type RejectionError } from './rejections';
import type { RejectionReason } from './types';
import { validateCallback, validateFinance } from './validate';

export interface ReceiveDeps {
  partners: Map<string, Partner>;
  callbackStruct: CallbackStruct;
  offsetMinutes: number;
  /** server.bodyLimit, server.bodyTimeoutMs and the server.maxBodyMemory budget. */
  bodyLimits: BodyLimits;
  /** Rejects dealTimes too old or too far ahead (skypay.maxAgeDays, skypay.maxFutureMinutes). */
  dealTimeWindow?: DealTimeWindow;
  store: IngestStore;
  /** Which destinations the event goes to; written in the event's own transaction. */
  plan: (event: RelayEvent) => NewDelivery[];
  /**
   * The payout lifecycle (src/payouts/policy.ts): when given, the event is judged against its payout in its own
   * transaction and planned after that with the policy's plan (so rules see the transition), instead of `plan`.
   */
  payoutPolicy?: PayoutPolicy;
  /** The delivery worker's lease for the event's deliveries (written in flight to it), if it takes any now. */
  lease?: () => IngestLease | undefined;
  /** Called after the commit, before the reply: hands leased deliveries to the worker, wakes it for the rest. */
  onStored?: (event: RelayEvent, outcome: SaveOutcome, deliveries: NewDelivery[]) => void;
  /** The clock the dealTime window is judged on. */
  now?: () => Date;
  /**
   * skypay.financePath: only financeNotification is taken here, whatever `action` says (a payout callback is
   * refused as a financeNotification with the wrong action). Elsewhere `action` picks the field table.
   */
  financeOnly?: boolean;
}

/** A callback as the HTTP layer hands it over: its headers, and a way to read its body. */
export interface CallbackRequest extends BodySource {
  /** Which accepted media type the Content-Type names; undefined for any other. */
  mediaType: CallbackMediaType | undefined;
  /** The Content-Type header as sent ('' when absent). */
  contentType: string;
}

/** What the callback log line reports; filled in as the stages pass. */
export interface CallbackFacts {
  controlNumber?: string;
  payType?: number;
  /** A financeNotification's identity, bar the partner. */
  referenceNumber?: string;
  accountNo?: string;
  statementType?: number;
  partner?: string;
  duplicate?: boolean;
  eventId?: string;
  /** The kept copy's id, when the callback repeated an identity with different content. */
  conflict?: string;
  differs?: string[] | undefined;
}

/** SkyPay's reply, ready to send. */
export interface CallbackAnswer {
  status: number;
  type: string;
  body: string;
}

/** Stored (or already stored): answered 1000. */
export interface Acknowledged {
  outcome: AcknowledgedOutcome;
  facts: CallbackFacts;
  answer: CallbackAnswer;
}

/** Not stored: answered with the rejection's status, or 500 when skyrelay itself failed (rejection undefined). */
export interface Rejected {
  outcome: 'rejected';
  rejection: RejectionError | undefined;
  /** What was thrown, for the log line of an internal error. */
  cause: unknown;
  status: number;
  reason: RejectionReason | 'internal';
  description: string;
  facts: CallbackFacts;
  answer: CallbackAnswer;
  /** The body as received, when it was read: kept (masked, cut) with the rejection. */
  rawBody: string | undefined;
}

export type CallbackResult = Acknowledged | Rejected;

/**
 * POST {skypay.path}, read top to bottom: content type -> size -> open
 * (decrypt) -> authenticate -> validate -> store (+ outbox) -> reply. Each
 * stage throws its own rejection; the first one ends the callback. The order
 * is the security boundary: nothing in the body is used before the partner
 * and key check out, and the 1000 goes out only after commit.
 */
export async function receiveCallback(request: CallbackRequest, deps: ReceiveDeps): Promise<CallbackResult> {
  const facts: CallbackFacts = {};
  let rawBody: string | undefined;
  let opened: OpenedBody | undefined;
  try {
    const mediaType = requireCallbackContentType(request.mediaType, request.contentType);
    const read = await readBodyWithin(request, deps.bodyLimits);
    rawBody = read.raw;
    opened = openBody(read.parsed, read.raw, mediaType, deps.partners);
    requireSafeBody(opened.body);
    facts.partner = authenticateCallback(opened.body, deps.partners, opened.key).userName;
    const now = deps.now?.() ?? new Date();
    const event = readEvent(opened, deps, now, facts);
    const { saved, deliveries } = await save(event, deps);
    facts.duplicate = saved.duplicate;
    facts.eventId = saved.eventId;
    if (saved.conflict) {
      facts.conflict = saved.conflict.copyId;
      facts.differs = saved.conflict.differs;
    }
    deps.onStored?.(event, saved, deliveries);
    const outcome = saved.conflict ? 'conflict' : saved.duplicate ? 'duplicate' : 'accepted';
    return { outcome, facts, answer: answerWith(200, SUCCESS_CODE, 'Success', deps.offsetMinutes, opened.key) };
  } catch (err) {
    // A rejection of a decrypted callback is answered under the same key.
    return rejected(err, deps.offsetMinutes, { facts, rawBody: rawBody ?? bodyOf(err), replyKey: opened?.key });
  }
}

/** Validates and normalizes the body by its field table (payout or finance), within the time window. */
function readEvent(opened: OpenedBody, deps: ReceiveDeps, now: Date, facts: CallbackFacts): CallbackEvent {
  if (deps.financeOnly || opened.body['action'] === FINANCE_ACTION) {
    const fields = validateFinance(opened.body);
    const event = normalizeFinance(fields, opened.body, deps.offsetMinutes, now, opened.text);
    if (deps.dealTimeWindow) {
      checkDealTimeWindow(new Date(event.transactionDateUtc), now, deps.dealTimeWindow, 'transctionDate');
    }
    facts.referenceNumber = event.referenceNumber;
    facts.accountNo = event.accountNo;
    facts.statementType = event.statementType;
    return event;
  }
  const callback = validateCallback(opened.body, deps.callbackStruct);
  const event = normalizeCallback(callback, opened.body, deps.offsetMinutes, now, opened.text);
  if (deps.dealTimeWindow) checkDealTimeWindow(new Date(event.dealTimeUtc), now, deps.dealTimeWindow);
  facts.controlNumber = event.controlNumber;
  facts.payType = event.payType;
  return event;
}

/** Stores the event (judged against its payout when there is a policy) and returns every delivery it planned. */
async function save(
  event: CallbackEvent,
  deps: ReceiveDeps,
): Promise<{ saved: SaveOutcome; deliveries: NewDelivery[] }> {
  const policy = deps.payoutPolicy;
  // A finance notification names no payout: it is stored as it is.
  if (!policy || event.type === 'finance') {
    const deliveries = deps.plan(event);
    const lease = deliveries.length > 0 ? deps.lease?.() : undefined;
    return { saved: await deps.store.saveEvent(event, deliveries, lease), deliveries };
  }
  // Planned inside the store's transaction: what it planned (the event's and any raised event's) wakes the worker.
  let deliveries: NewDelivery[] = [];
  const saved = await deps.store.savePayoutEvent(
    event,
    {
      ...policy,
      // A write tried again (a busy lock, a batch split up) judges again: only the last try's plans count.
      judge: (before, e, history) => {
        deliveries = [];
        return policy.judge(before, e, history);
      },
      plan: (e) => {
        const planned = policy.plan(e);
        deliveries = [...deliveries, ...planned];
        return planned;
      },
    },
    // Planned in the transaction, so whether there will be deliveries is not known yet: ask for the lease anyway.
    deps.lease?.(),
  );
  return { saved, deliveries: saved.duplicate ? [] : deliveries };
}

/** The result for anything thrown: a rejection (its status and reason), or an internal error (500). */
export function rejected(
  err: unknown,
  offsetMinutes: number,
  context: { facts?: CallbackFacts; rawBody?: string | undefined; replyKey?: Buffer | undefined } = {},
): Rejected {
  const rejection = toRejection(err);
  const status = rejection?.status ?? 500;
  const description = rejection ? rejection.message : 'internal error; the callback was kept for inspection';
  // Only a rejection is encrypted: an internal error may have happened before the key was known to be right.
  const key = rejection ? context.replyKey : undefined;
  return {
    outcome: 'rejected',
    rejection,
    cause: err,
    status,
    reason: rejection?.reason ?? 'internal',
    description,
    facts: context.facts ?? {},
    // The client's words: the same for every authentication failure, where the log and the row say which.
    answer: answerWith(status, String(status), rejection?.answerDescription ?? description, offsetMinutes, key),
    rawBody: context.rawBody,
  };
}

function answerWith(
  status: number,
  code: string,
  description: string,
  offsetMinutes: number,
  key: Buffer | undefined,
): CallbackAnswer {
  const reply = encodeReply(buildReply(code, description, offsetMinutes), key);
  return { status, type: reply.type, body: reply.body };
}

/** raw-body hands the text it read on with its parse errors: kept like any other rejected body. */
function bodyOf(err: unknown): string | undefined {
  const body = (err as { body?: unknown } | null)?.body;
  return typeof body === 'string' ? body : undefined;
}
