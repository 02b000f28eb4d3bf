import type { Config } from '../config/schema';
import type { Logger } from '../log';
import type { Plan } from '../routing/plan';
import type { RuntimeEvents } from '../runtime/events';
import { listPartnerSecrets, preparePartners } from '../skypay/partners';
import { parseOffsetMinutes } from '../skypay/time';
import { createCallbackStruct } from '../skypay/validate';
import type { Store } from '../store';
import type { IngestLease } from '../delivery/types';
import { payoutPolicyOf } from '../payouts/component';
import { BodyBudget, parseSize } from './body';
import type { CallbackRouteDeps } from './route';
import type { NewRejection } from './types';

export interface CallbackRoutesDeps {
  config: Config;
  store: Store;
  /** How new events are routed (the rules, less what an active silence holds back). */
  plan: Plan;
  /** The delivery worker's lease for the event's deliveries, where this process sends. */
  lease: (() => IngestLease | undefined) | undefined;
  /** Keeps a refused callback's row, within the flood bounds (the rejection keeper). */
  keep: (rejection: NewRejection) => Promise<boolean>;
  events: RuntimeEvents;
  logger: Logger;
}

/**
 * The callback routes: skypay.path, and skypay.financePath taking only financeNotification. Without the ingest role
 * none is mounted: the path answers 404 like any unknown path (docs/operations.md, several hosts), so a load balancer
 * sending callbacks here shows as misrouted, not down.
 */
export function callbackRoutes(deps: CallbackRoutesDeps): CallbackRouteDeps[] {
  const { config, events } = deps;
  if (!config.roles.includes('ingest')) return [];
  const offsetMinutes = parseOffsetMinutes(config.skypay.timezone);
  const tokens = [config.admin.token, config.metrics.token].filter((t): t is string => t !== undefined);
  const main: CallbackRouteDeps = {
    path: config.skypay.path,
    bodyLimit: config.server.bodyLimit,
    receive: {
      partners: preparePartners(config.skypay.partners),
      callbackStruct: createCallbackStruct(offsetMinutes),
      offsetMinutes,
      bodyLimits: {
        limitBytes: parseSize(config.server.bodyLimit),
        timeoutMs: config.server.bodyTimeoutMs,
        budget: new BodyBudget(parseSize(config.server.maxBodyMemory)),
      },
      dealTimeWindow: { maxAgeDays: config.skypay.maxAgeDays, maxFutureMinutes: config.skypay.maxFutureMinutes },
      store: deps.store,
      plan: deps.plan,
      payoutPolicy: payoutPolicyOf(config, deps.plan),
      // Leased at ingest: sent from memory; only what did not fit is claimed.
      ...(deps.lease ? { lease: deps.lease } : {}),
      onStored: (event, outcome, deliveries) => events.emit('event.stored', { event, outcome, deliveries }),
    },
    answer: {
      store: deps.store,
      logger: deps.logger,
      offsetMinutes,
      secrets: [...listPartnerSecrets(config.skypay.partners), ...tokens],
      keep: deps.keep,
      onRejected: (rejection) => events.emit('callback.rejection', rejection),
      onOutcome: (outcome, ms) => events.emit('callback.outcome', { outcome, ms }),
    },
  };
  const financePath = config.skypay.financePath;
  if (financePath === undefined) return [main];
  return [main, { ...main, path: financePath, receive: { ...main.receive, financeOnly: true } }];
}
