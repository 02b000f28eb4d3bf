import {
  PAYOUT_STATES,
  PAY_STATUSES,
  TRANSITION_KINDS,
  type FinanceEvent,
  type PayType,
  type PayoutEvent,
  type RelayEvent,
  type SystemEvent,
} from '../event';
import { SYSTEM_FIELDS } from '../routing/fields';
import { compileMatch } from '../routing/match';
import type { MatcherValue } from '../routing/schema';

/**
 * skyrelay's alerts about its own health: the database gone, a destination down or back. Nobody may silence them,
 * with any matcher or force: a silence made for a noisy afternoon must not also hide that alerts stopped reaching
 * anyone.
 */
export function isHealthAlertType(type: string): boolean {
  return type === 'database.lost' || type.startsWith('destination.');
}

export function isHealthAlert(event: RelayEvent): boolean {
  return event.source === 'skyrelay' && isHealthAlertType(event.type);
}

/** As for rules: a silence holds back skyrelay's own events only when its matchers name `source` or `type`. */
export function namesSystemEvents(matchers: Readonly<Record<string, unknown>>): boolean {
  return Object.hasOwn(matchers, 'source') || Object.hasOwn(matchers, 'type');
}

/** skyrelay's own event types a silence may hold back. */
const SILENCEABLE_SYSTEM_TYPES: readonly SystemEvent['type'][] = [
  'rejection',
  'delivery.dead',
  'callback.conflict',
  'payout.anomaly',
  'payout.stuck',
  'payout.unstuck',
  'group',
];
const HEALTH_TYPES = ['database.lost', 'destination.unhealthy', 'destination.recovered'] as const;

/**
 * Texts unlike each other in every way a matcher looks (empty, digits, letters of both cases, punctuation, spaces,
 * non-ASCII), so that a prefix, contains, regex or equality that selects anything at all refuses at least one.
 */
const TEXTS = ['', '0', 'a', 'Zz 9-_.@!', 'Acme@skypay', 'ü ÿ\u00e9', '2026-11-27 09:00:04'];
/** What a field of skyrelay's own events may hold: absent, null, any text, a number, a boolean. */
const ANY_VALUE: readonly unknown[] = [undefined, null, ...TEXTS, 0, 1, 4, -2.5, true, false];

/**
 * Events that differ, probe by probe, in every field a matcher can name: probe i takes the i-th value of each
 * field's list (cycling), so each value of each field is in some probe. A silence whose matchers hold for all of a
 * family's probes holds whatever that family's events carry: it matches every one of them.
 */
function payoutProbes(): PayoutEvent[] {
  const statuses = Object.entries(PAY_STATUSES);
  const n = Math.max(statuses.length, TEXTS.length + 1, TRANSITION_KINDS.length, PAYOUT_STATES.length + 1);
  return Array.from({ length: n }, (_, i) => {
    const [num, status] = statuses[i % statuses.length] as [string, PayoutEvent['status']];
    const text = TEXTS[i % TEXTS.length] as string;
    const nullable = i % (TEXTS.length + 1) === 0 ? null : (TEXTS[i % TEXTS.length] as string);
    return {
      id: `evt_probe${i}`,
      source: 'skypay',
      type: 'payout',
      action: text,
      partner: text,
      controlNumber: text,
      payType: Number(num) as PayType,
      status,
      dealTime: text,
      dealTimeUtc: text,
      failDescription: nullable,
      referenceNumber: nullable,
      // Extra fields are rare: matching "every event without extra.x" is matching every event.
      extra: {},
      receivedAt: text,
      duplicates: 0,
      transition: {
        from: i % (PAYOUT_STATES.length + 1) === 0 ? null : (PAYOUT_STATES[i % PAYOUT_STATES.length] ?? null),
        to: PAYOUT_STATES[(i + 1) % PAYOUT_STATES.length] ?? 'uploaded',
        kind: TRANSITION_KINDS[i % TRANSITION_KINDS.length] ?? 'first',
      },
    };
  });
}

function financeProbes(): FinanceEvent[] {
  const amounts = [0, 1, 12_345.67, -2.5];
  return Array.from({ length: Math.max(6, TEXTS.length) }, (_, i) => {
    const text = TEXTS[i % TEXTS.length] as string;
    return {
      id: `evt_probe${i}`,
      source: 'skypay',
      type: 'finance',
      action: 'financeNotification',
      partner: text,
      referenceNumber: text,
      accountNo: text,
      statementType: ((i % 6) + 1) as FinanceEvent['statementType'],
      signType: i % 2 === 0 ? 'recharge' : 'reduce',
      amount: amounts[i % amounts.length] ?? 0,
      currency: text,
      transactionDate: text,
      transactionDateUtc: text,
      companyPrefix: text,
      companyName: text,
      sourceAccountNo: text,
      beneficiaryAccountNo: text,
      extra: {},
      receivedAt: text,
      duplicates: 0,
    };
  });
}

function systemProbes(types: readonly string[]): SystemEvent[] {
  const n = Math.max(types.length, ANY_VALUE.length);
  return Array.from({ length: n }, (_, i) => ({
    id: `evt_probe${i}`,
    source: 'skyrelay',
    type: types[i % types.length] as SystemEvent['type'],
    receivedAt: '',
    data: Object.fromEntries(
      SYSTEM_FIELDS.map((f, k) => [f, ANY_VALUE[(i + k) % ANY_VALUE.length]]).filter(([, v]) => v !== undefined),
    ) as SystemEvent['data'],
  }));
}

const FAMILIES: readonly { name: string; probes: readonly RelayEvent[] }[] = [
  { name: 'every payout event', probes: payoutProbes() },
  { name: 'every finance notification', probes: financeProbes() },
  { name: "every one of skyrelay's own alerts", probes: systemProbes(SILENCEABLE_SYSTEM_TYPES) },
];
const HEALTH_PROBES: readonly RelayEvent[] = systemProbes(HEALTH_TYPES);
const OTHER_PROBES: readonly RelayEvent[] = FAMILIES.flatMap((f) => f.probes);

/**
 * What a silence's matchers (already valid) say about its reach, for its author: the families of events it would
 * match whatever their content (`{"payType": {"regex": ""}}`: every payout event), and whether its `type` names
 * only skyrelay's health alerts, which no silence holds back.
 */
export function judgeSilenceReach(matchers: Readonly<Record<string, MatcherValue>>): {
  matchesEvery: string[];
  onlyHealthAlerts: boolean;
} {
  const matches = compileMatch(matchers);
  const system = namesSystemEvents(matchers);
  const applies = (event: RelayEvent): boolean => (event.source !== 'skyrelay' || system) && matches(event);
  const matchesEvery = FAMILIES.filter((f) => f.probes.every(applies)).map((f) => f.name);
  // Judged on `type` alone: the probes' other values are arbitrary, so they cannot tell what else a text would match.
  const type = matchers['type'];
  const typeMatches = type === undefined ? undefined : compileMatch({ type });
  const onlyHealthAlerts =
    typeMatches !== undefined && HEALTH_PROBES.some(typeMatches) && !OTHER_PROBES.some(typeMatches);
  return { matchesEvery, onlyHealthAlerts };
}
