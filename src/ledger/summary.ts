import type { SystemEvent } from '../event';
import { createId } from '../ids';
import { totalRoutes } from './balance';
import type { Ledger } from './types';

/**
 * skyrelay.ledger.daily: yesterday's ledger in a few numbers, routed by rules like skyrelay's other events. Data is
 * flat (rules and silences read it by name; Slack and email render it as a short table) and holds counts only: no
 * payout's particulars, so nothing in it needs masking.
 */
export function buildLedgerDailyEvent(ledger: Ledger, now: Date): SystemEvent {
  const routes = totalRoutes(ledger);
  const first = ledger.unexplained[0];
  const unexplained = ledger.unexplained.length;
  const verdict = ledger.balanced
    ? 'balanced: every callback, event and route is accounted for'
    : `not balanced: ${unexplained} unexplained` + (first ? ` (first: ${first.kind} ${first.id}: ${first.why})` : '');
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'ledger.daily',
    receivedAt: now.toISOString(),
    data: {
      reason: `Ledger of ${ledger.day} (${ledger.timezone}) ${verdict}`,
      day: ledger.day,
      timezone: ledger.timezone,
      balanced: ledger.balanced,
      accepted: ledger.callbacks.accepted,
      events: ledger.events.callback + ledger.events.reconciliation + ledger.events.skyrelay,
      routes: routes.routed,
      delivered: routes.delivered,
      deliveredInGroup: routes.deliveredInGroup,
      silenced: routes.silenced,
      unexplained,
      dead: routes.dead,
      pending: routes.pending,
      stuck: ledger.payouts.stuck,
      contradicted: ledger.payouts.contradicted,
    },
  };
}
