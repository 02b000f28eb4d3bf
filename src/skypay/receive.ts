import type Koa from 'koa';
import { RefusalError, UnsupportedMediaTypeError } from '../errors';
import type { RelayEvent } from '../event';
import type { IngestStore } from '../store/store';
import type { NewDelivery, SaveOutcome } from '../store/types';
import { authenticateCallback } from './authenticate';
import { decryptCallback, parseObject, requireObject, type OpenedBody } from './decrypt';
import { requireSafeBody } from './body-shape';
import { checkDealTimeWindow, type DealTimeWindow } from './freshness';
import { normalizeCallback } from './normalize';
import type { Partner } from './partners';
import { buildReply, encodeReply, SUCCESS_CODE } from './reply';
import { validateCallback, type CallbackStruct } from './validate';

export interface ReceiveDeps {
  partners: Map<string, Partner>;
  callbackStruct: CallbackStruct;
  offsetMinutes: number;
  /** Refuses dealTimes too old or too far ahead (skypay.maxAgeDays, skypay.maxFutureMinutes). */
  dealTimeWindow?: DealTimeWindow;
  store: IngestStore;
  /** Which destinations the event goes to; written in the event's own transaction. */
  planDeliveries: (event: RelayEvent) => NewDelivery[];
  /** Called after the commit, before the reply: wakes the delivery worker. */
  onStored?: (event: RelayEvent, outcome: SaveOutcome, deliveries: NewDelivery[]) => void;
}

/** What the callback log line reports; filled in as the stages pass. */
export interface CallbackState {
  controlNumber?: string;
  payType?: number;
  partner?: string;
  duplicate?: boolean;
  eventId?: string;
  /** The kept copy's id, when the callback repeated an identity with different content. */
  conflict?: string;
  differs?: string[];
}

/**
 * POST {skypay.path}: decrypt → authenticate → validate → store → 1000.
 * The order is the security boundary: nothing in the body is used before
 * the partner and key check out, and the 1000 goes out only after commit.
 */
export function createReceiveHandler(deps: ReceiveDeps): Koa.Middleware {
  return async (ctx) => {
    const state: CallbackState = (ctx.state.callback = {});
    const rawBody = (ctx.request as { rawBody?: unknown }).rawBody;
    const opened = openBody(
      ctx.request.body,
      typeof rawBody === 'string' ? rawBody : undefined,
      ctx.is('application/json', 'json') !== false,
      deps.partners,
    );
    try {
      requireSafeBody(opened.body);
      const partner = authenticateCallback(opened.body, deps.partners, opened.key);
      state.partner = partner.userName;
      const callback = validateCallback(opened.body, deps.callbackStruct);
      const now = new Date();
      const event = normalizeCallback(callback, opened.body, deps.offsetMinutes, now, opened.text);
      if (deps.dealTimeWindow) checkDealTimeWindow(new Date(event.dealTimeUtc), now, deps.dealTimeWindow);
      state.controlNumber = event.controlNumber;
      state.payType = event.payType;
      const deliveries = deps.planDeliveries(event);
      const outcome = await deps.store.saveEvent(event, deliveries);
      state.duplicate = outcome.duplicate;
      state.eventId = outcome.eventId;
      if (outcome.conflict) {
        state.conflict = outcome.conflict.copyId;
        state.differs = outcome.conflict.differs;
      }
      deps.onStored?.(event, outcome, deliveries);
      const reply = encodeReply(buildReply(SUCCESS_CODE, 'Success', deps.offsetMinutes), opened.key);
      ctx.status = 200;
      ctx.type = reply.type;
      ctx.body = reply.body;
    } catch (err) {
      // A refusal of a decrypted callback is answered under the same key.
      if (err instanceof RefusalError && opened.key) err.replyKey = opened.key;
      throw err;
    }
  };
}

function openBody(
  parsed: unknown,
  rawText: string | undefined,
  isJson: boolean,
  partners: Map<string, Partner>,
): OpenedBody {
  if (isJson) return { body: requireObject(parsed), text: rawText };
  if (typeof parsed !== 'string') {
    throw new UnsupportedMediaTypeError('send application/json, or text/plain with an encrypted body');
  }
  // SkyPay's sandbox and test tools sometimes post plain JSON as text/plain.
  const plain = parseObject(parsed);
  return plain ? { body: plain, text: parsed } : decryptCallback(parsed, partners.values());
}
