import { PAY_STATUSES, type PayStatus, type PayType, type RelayEvent } from '../event';
import { readTypeNames } from './event-types';
import { compileFieldReader } from './fields';
import { compileMatcher } from './matcher';
import type { MatcherValue, RuleConfig } from './schema';

export interface CompiledRule {
  readonly name: string;
  readonly to: readonly string[];
  /** Whether the planner (plan.ts) offers this rule skyrelay's own events (see namesSystemEvents). */
  readonly receivesSystemEvents: boolean;
  matches(event: RelayEvent): boolean;
}

export interface Route {
  destination: string;
  /** Every rule that sent the event to this destination, in rule order. */
  rules: string[];
}

/** Call once when the config loads; routing then does no parsing or RegExp building. */
export function compileRules(rules: readonly RuleConfig[]): CompiledRule[] {
  return rules.map(compileRule);
}

function compileRule(rule: RuleConfig): CompiledRule {
  return {
    name: rule.name,
    to: [...rule.to],
    receivesSystemEvents: namesSystemEvents(rule),
    matches: compileMatch(rule.match ?? {}),
  };
}

/**
 * A rule's `match` as one test: every field's matcher must hold. `type` is tested against both names an event goes
 * by (its own type and its webhook name: readTypeNames). Rules and silences share it, so a silence's
 * matchers mean exactly what the same text means in a rule.
 */
export function compileMatch(match: Readonly<Record<string, MatcherValue>>): (event: RelayEvent) => boolean {
  const conditions = Object.entries(match).map(([field, matcher]) => {
    const read = field === 'type' ? readTypeNames : compileFieldReader(field);
    const test = compileMatcher(field, matcher);
    return (event: RelayEvent) => test(read(event));
  });
  return (event) => conditions.every((condition) => condition(event));
}

/**
 * skyrelay's own events (rejected callbacks, dead deliveries) reach a rule
 * only when its match names `source` or `type`: a catch-all ledger feed
 * written before those events existed must not start receiving alerts.
 */
export function namesSystemEvents(rule: RuleConfig): boolean {
  return rule.match !== undefined && (Object.hasOwn(rule.match, 'source') || Object.hasOwn(rule.match, 'type'));
}

/**
 * One route per destination even when several rules name it, so a
 * destination receives the event once; the rule names travel with it to
 * explain why it was sent.
 */
export function routeEvent(event: RelayEvent, compiledRules: readonly CompiledRule[]): Route[] {
  const routes = new Map<string, Route>();
  for (const rule of compiledRules) {
    if (!rule.matches(event)) continue;
    for (const destination of rule.to) {
      const route = routes.get(destination) ?? { destination, rules: [] };
      if (!route.rules.includes(rule.name)) route.rules.push(rule.name);
      routes.set(destination, route);
    }
  }
  return [...routes.values()];
}

/**
 * The payout statuses a rule can fire on, judged by its payType/status
 * matchers alone (other conditions depend on the event, so they are not
 * evaluated). A rule with no such matcher lists all six.
 */
export function describeRule(rule: RuleConfig): PayStatus[] {
  const payTypeMatcher = rule.match?.['payType'];
  const statusMatcher = rule.match?.['status'];
  const testPayType = payTypeMatcher === undefined ? undefined : compileMatcher('payType', payTypeMatcher);
  const testStatus = statusMatcher === undefined ? undefined : compileMatcher('status', statusMatcher);
  const fired: PayStatus[] = [];
  for (const [num, name] of Object.entries(PAY_STATUSES)) {
    const payType = Number(num) as PayType;
    if (testPayType && !testPayType(payType)) continue;
    if (testStatus && !testStatus(name)) continue;
    fired.push(name);
  }
  return fired;
}
