import type { FinanceEvent, PayoutEvent, RelayEvent, Transition } from '../event';

/** Payout properties a rule may name directly; anything else is looked up in `extra`. */
const PAYOUT_FIELDS = [
  'payType',
  'status',
  'partner',
  'controlNumber',
  'failDescription',
  'referenceNumber',
  'source',
  'type',
  'action',
  'dealTime',
] as const satisfies readonly (keyof PayoutEvent)[];

const PAYOUT_FIELD_SET: ReadonlySet<string> = new Set(PAYOUT_FIELDS);

/** Finance notification properties a rule may name directly (SkyPay's `transctionDate` as `transactionDate`). */
const FINANCE_FIELDS = [
  'statementType',
  'signType',
  'amount',
  'currency',
  'accountNo',
  'referenceNumber',
  'partner',
  'source',
  'type',
  'action',
  'transactionDate',
  'companyPrefix',
  'companyName',
  'sourceAccountNo',
  'beneficiaryAccountNo',
] as const satisfies readonly (keyof FinanceEvent)[];

const FINANCE_FIELD_SET: ReadonlySet<string> = new Set(FINANCE_FIELDS);

const PAYOUT_STATE_FIELD = 'payout.state';
/**
 * Whether SkyPay's status query confirmed the payout's final status (pending, confirmed, contradicted, off): on a
 * payout status, as it was right after it (`confirmation`); on skyrelay's payout events, their `data.confirmation`
 * (payout.confirmed: confirmed; payout.anomaly of kind unconfirmed: contradicted).
 */
export const CONFIRMATION_FIELD = 'payout.confirmation';

/**
 * How the callback moved its payout (set when it was stored): `transition.kind` (first, forward, amendment, late,
 * after-final, conflict), `transition.from`, `transition.to`, and `payout.state`, the payout's state after it.
 * Dotted names, so they never shadow an extra field SkyPay might send as `state`.
 */
const TRANSITION_FIELDS: Readonly<Record<string, (t: Transition) => unknown>> = {
  'transition.kind': (t) => t.kind,
  'transition.from': (t) => t.from,
  'transition.to': (t) => t.to,
  [PAYOUT_STATE_FIELD]: (t) => t.to,
};

/** Field names a rule may give that speak of the payout's lifecycle: their values are checked when config loads. */
export const LIFECYCLE_FIELDS: ReadonlySet<string> = new Set([...Object.keys(TRANSITION_FIELDS), CONFIRMATION_FIELD]);
const EXTRA_PREFIX = 'extra.';

export type FieldReader = (event: RelayEvent) => unknown;

/**
 * Resolves a field name once, at compile time, into a reader. Lookups use
 * own properties only, so a field named "constructor" or "toString" reads as
 * missing instead of reaching Object.prototype.
 */
export function compileFieldReader(field: string): FieldReader {
  const extraName = field.startsWith(EXTRA_PREFIX) ? field.slice(EXTRA_PREFIX.length) : undefined;
  const isPayoutField = PAYOUT_FIELD_SET.has(field);
  const isFinanceField = FINANCE_FIELD_SET.has(field);
  const readTransition = Object.hasOwn(TRANSITION_FIELDS, field) ? TRANSITION_FIELDS[field] : undefined;
  return (event) => {
    if (event.source === 'skyrelay') {
      if (field === 'source' || field === 'type') return event[field];
      // skyrelay's payout events (stuck, unstuck, anomaly) carry the payout's state as data.state.
      if (field === PAYOUT_STATE_FIELD && !Object.hasOwn(event.data, field)) return readOwn(event.data, 'state');
      if (field === CONFIRMATION_FIELD && !Object.hasOwn(event.data, field)) return readOwn(event.data, 'confirmation');
      return readOwn(event.data, field);
    }
    if (event.type === 'finance') {
      if (isFinanceField) return event[field as (typeof FINANCE_FIELDS)[number]];
    } else {
      if (isPayoutField) return event[field as (typeof PAYOUT_FIELDS)[number]];
      if (readTransition) return event.transition ? readTransition(event.transition) : undefined;
      if (field === CONFIRMATION_FIELD) return event.confirmation;
    }
    // A literal extra key containing a dot ("extra.x" sent by SkyPay) still wins over the prefix form.
    if (extraName !== undefined && !Object.hasOwn(event.extra, field)) return readOwn(event.extra, extraName);
    return readOwn(event.extra, field);
  };
}

function readOwn(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * The data fields of skyrelay's own events (src/alerts/build.ts, src/payouts/events.ts and reconcile.ts, the group
 * message), which a
 * rule or silence reads by name. A builder that adds a field adds it here, or no rule can name it (a unit test
 * builds every kind of event and checks).
 */
export const SYSTEM_FIELDS = [
  'reason',
  'status',
  'partner',
  'remoteAddress',
  'description',
  'method',
  'path',
  'rejectionId',
  'folded',
  'summary',
  'destination',
  'deliveryId',
  'eventId',
  'eventType',
  'attempts',
  'lastError',
  'lastStatus',
  'controlNumber',
  'payoutStatus',
  'rules',
  'copyId',
  'callback',
  'referenceNumber',
  'accountNo',
  'statementType',
  'transactionDate',
  'payType',
  'dealTime',
  'differs',
  'pid',
  'action',
  'kind',
  'state',
  'history',
  'since',
  'age',
  'ageMs',
  'stuckState',
  'groupKey',
  'members',
  'statuses',
  'skyrelaySays',
  'skypaySays',
  'queriedStatus',
  'queriedStatusDesc',
  'payTime',
  'cancelTime',
  'confirmation',
  'transition',
  'previousStatus',
  'previousEventId',
  'violation',
  'day',
  'timezone',
  'balanced',
  'accepted',
  'events',
  'routes',
  'delivered',
  'deliveredInGroup',
  'silenced',
  'unexplained',
  'dead',
  'pending',
  'stuck',
  'contradicted',
  'lastErrors',
  'backlog',
  'outage',
  'outageMs',
  'waited',
  'by',
] as const;

/** A group message's `by.<field>`: the values its members share. */
const GROUP_BY_PREFIX = 'by.';

const KNOWN_FIELDS: ReadonlySet<string> = new Set<string>([
  ...PAYOUT_FIELDS,
  ...FINANCE_FIELDS,
  ...LIFECYCLE_FIELDS,
  ...SYSTEM_FIELDS,
]);

/**
 * Why a rule or silence may not name `field`, or undefined when it may: a misspelt name (`payTyp`) would read as a
 * missing extra field, so `{"payTyp": {"exists": false}}` would match every event. A field SkyPay sends beyond its
 * documentation is named `extra.<name>`, as in `mask` and `group.by`.
 */
export function findFieldNameProblem(field: string): string | undefined {
  if (KNOWN_FIELDS.has(field)) return undefined;
  for (const prefix of [EXTRA_PREFIX, GROUP_BY_PREFIX]) {
    if (field.startsWith(prefix) && field.length > prefix.length) return undefined;
  }
  const near = closestWithin([...KNOWN_FIELDS], field, 2);
  const hint = near === undefined ? '' : ` (did you mean "${near}"?)`;
  return (
    `${field}: unknown field${hint}; expected a payout field (${PAYOUT_FIELDS.join(', ')}), ` +
    `${[...LIFECYCLE_FIELDS].join(', ')}, a finance field (${FINANCE_FIELDS.filter((f) => !PAYOUT_FIELD_SET.has(f)).join(', ')}), ` +
    `a field of skyrelay's own events (${SYSTEM_FIELDS.filter((f) => !PAYOUT_FIELD_SET.has(f) && !FINANCE_FIELD_SET.has(f)).join(', ')}), ` +
    `or extra.<name> for a field SkyPay sends beyond its documentation`
  );
}

/** The name fewest edits (case aside) from `typed`, if within `most`: a typo rather than another name. */
function closestWithin(names: readonly string[], typed: string, most: number): string | undefined {
  let best: string | undefined;
  let bestDistance = most + 1;
  for (const name of names) {
    const d = editDistance(typed.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

function editDistance(x: string, y: string): number {
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[y.length] ?? 0;
}
