import type { Command } from 'commander';
import { describeAttemptCount } from '../operations/attempts';
import { parseConfirmation, parseLimit, parseName, parseOlderThan, parsePayoutState } from '../operations/filters';
import type { PayoutEvent } from '../event';
import { describeConfirmation } from '../payouts/lifecycle';
import { stringifyPayoutDetail, type PayoutDetail, type PayoutView } from '../operations/views';
import { loadCliConfig, parseFlag, print, withOperations } from './context';
import { clip, escapeJson, jsonLines, renderTable, shortTime } from './format';

interface PayoutsFlags {
  state?: string;
  olderThan?: string;
  anomalies?: boolean;
  confirmation?: string;
  partner?: string;
  before?: string;
  limit: string;
  json?: boolean;
}

/** `skyrelay payout <controlNumber>` and `skyrelay payouts`: what the store knows of payouts. */
export function registerPayouts(program: Command): void {
  program
    .command('payout')
    .description("a payout's state, its timeline (each status with dealTime and received time), copies and deliveries")
    .argument('<controlNumber>', "the payout's control number")
    .option('--partner <userName>', "only this partner's payout (a control number can exist in several)")
    .option('--json', 'one JSON object per payout')
    .action(async (controlNumber: string, flags: { partner?: string; json?: boolean }) => {
      const partner = parseFlag(() => (flags.partner === undefined ? undefined : parseName(flags.partner, 'partner')));
      const found = await withOperations(loadCliConfig(), (o) => o.queries.getPayouts(controlNumber, partner));
      const lines = flags.json
        ? found.map((d) => escapeJson(stringifyPayoutDetail(d)))
        : found.flatMap((d, i) => [...(i ? [''] : []), ...renderPayout(d)]);
      for (const line of lines) print(line);
    });

  program
    .command('payouts')
    .description('list payouts, newest first (stuck ones: --state uploaded --older-than 6h)')
    .option('--state <state>', 'uploaded, paid, cancelled, failed, amendedSuccess or amendedFailure')
    .option('--older-than <duration>', 'in their state for longer than this (6h, 2d)')
    .option('--anomalies', 'only payouts with a payout.anomaly (after-final, conflict, same-time, unconfirmed)')
    .option(
      '--confirmation <confirmation>',
      "pending, confirmed, contradicted or off: whether SkyPay's status query confirmed the final status",
    )
    .option('--partner <userName>', 'only this partner')
    .option('--before <id>', 'the next page: payouts older than this id (the last one listed)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'one JSON object per line')
    .action(async (flags: PayoutsFlags) => {
      const filter = parseFlag(() => ({
        state: flags.state === undefined ? undefined : parsePayoutState(flags.state),
        stateSinceBeforeMs: flags.olderThan === undefined ? undefined : parseOlderThan(flags.olderThan),
        anomalies: flags.anomalies === true ? true : undefined,
        confirmation: flags.confirmation === undefined ? undefined : parseConfirmation(flags.confirmation),
        partner: flags.partner === undefined ? undefined : parseName(flags.partner, 'partner'),
        before: flags.before,
      }));
      const limit = parseFlag(() => parseLimit(flags.limit));
      const { items, next } = await withOperations(loadCliConfig(), (o) => o.queries.listPayouts(filter, limit));
      if (flags.json) {
        for (const line of jsonLines(items)) print(line);
        return;
      }
      if (items.length === 0) return print('no payouts match');
      for (const line of renderPayouts(items)) print(line);
      if (next !== undefined) print(`more: --before ${next}`);
    });
}

function renderPayouts(items: readonly PayoutView[]): string[] {
  return renderTable(
    ['LAST SEEN', 'ID', 'CONTROL NUMBER', 'PARTNER', 'STATE', 'SINCE', 'CONFIRMATION', 'ANOMALIES', 'STUCK'],
    items.map((p) => [
      shortTime(p.lastSeenAt),
      p.id,
      p.controlNumber,
      clip(p.partner, 24),
      p.state,
      shortTime(p.stateSince),
      p.confirmation,
      String(p.anomalies),
      p.stuckState ?? '—',
    ]),
  );
}

/** The payout, its timeline by dealTime (conflicting copies under the event they copy), then its deliveries. */
export function renderPayout(d: PayoutDetail): string[] {
  const p = d.payout;
  const lines = [
    `payout ${p.controlNumber} of ${p.partner}: ${p.state}${p.final ? ' (final)' : ' (open)'} since ${shortTime(p.stateSince)}`,
    `  first seen ${shortTime(p.firstSeenAt)}, last seen ${shortTime(p.lastSeenAt)}, anomalies ${p.anomalies}` +
      (p.stuckState ? `, reported stuck ${p.stuckState}` : ''),
    `  confirmation ${p.confirmation}: ${describeConfirmation(p.confirmation)}`,
    '  timeline (dealTime in SkyPay time, received in UTC):',
  ];
  const events = [...d.events].sort((a, b) => {
    const x = a.event as PayoutEvent;
    const y = b.event as PayoutEvent;
    return x.dealTime === y.dealTime ? x.receivedAt.localeCompare(y.receivedAt) : x.dealTime < y.dealTime ? -1 : 1;
  });
  const rows: string[][] = [];
  for (const e of events) {
    const ev = e.event as PayoutEvent;
    const t = ev.transition;
    const moved = t ? `${t.kind} ${t.from ?? '—'} → ${t.to}` : '(before payouts were kept)';
    const origin = ev.origin === 'reconciliation' ? ' (from reconciliation)' : '';
    rows.push([ev.dealTime, shortTime(ev.receivedAt), ev.status, `${moved}${origin}`, ev.id, String(e.duplicates)]);
    for (const c of e.conflicts) {
      // A payout's copies are payout callbacks: its identity names a control number.
      if (c.copy.type !== 'payout') continue;
      const again = c.repeats ? ` ×${c.repeats + 1}` : '';
      rows.push([
        c.copy.dealTime,
        shortTime(c.receivedAt),
        c.copy.status,
        `conflicting copy${again}: ${c.differs.join(', ')}`,
        c.id,
        '—',
      ]);
    }
  }
  lines.push(
    ...renderTable(['DEAL TIME', 'RECEIVED', 'STATUS', 'TRANSITION', 'EVENT', 'DUPLICATES'], rows).map(
      (l) => `    ${l}`,
    ),
  );
  // What SkyPay's status query said of it (reconciliation), each answer with how often it was given.
  if (d.reconciliations.length > 0) {
    lines.push("  reconciliation (SkyPay's status query):");
    const checks = d.reconciliations.map((r) => [
      shortTime(r.lastCheckedAt),
      r.status === null ? '—' : `${r.status} ${r.statusDesc}`.trim(),
      r.outcome,
      r.checks > 1 ? `×${r.checks} since ${shortTime(r.firstCheckedAt)}` : '',
      r.detail,
      r.eventId ?? '—',
    ]);
    lines.push(
      ...renderTable(['CHECKED', 'SKYPAY STATUS', 'OUTCOME', 'TIMES', 'DETAIL', 'EVENT'], checks).map(
        (l) => `    ${l}`,
      ),
    );
  }
  const deliveries = events.flatMap((e) => e.deliveries);
  lines.push(deliveries.length ? '  deliveries:' : '  deliveries: none (no rule chose a destination)');
  for (const dl of deliveries) {
    lines.push(
      `    ${dl.eventId} → ${dl.destination}: ${dl.state}, ${describeAttemptCount(dl)}, rules ${dl.rules.join(', ')}`,
    );
  }
  return lines;
}
