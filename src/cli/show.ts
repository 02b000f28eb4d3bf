import type { Command } from 'commander';
import { formatValue } from '../destinations/present';
import { stringifyExtra } from '../event-json';
import { describeAttemptCount, numberAttempts } from '../operations/attempts';
import { listContent } from '../skypay/identity';
import type { PayoutConfirmation } from '../event';
import { describeConfirmation } from '../payouts/lifecycle';
import { payoutKey } from '../operations/queries';
import { stringifyEventDetail, type EventDetail } from '../operations/views';
import { loadCliConfig, print, withOperations } from './context';
import { escapeJson } from './format';

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('show an event (by id) or every event of a payout (by control number), with deliveries and attempts')
    .argument('<ref>', 'an event id (evt_…) or a control number')
    .option('--json', 'one JSON object per event')
    .action(async (ref: string, flags: { json?: boolean }) => {
      const { found, confirmations } = await withOperations(loadCliConfig(), async ({ queries }) => {
        const events = await queries.findEvents(ref);
        return { found: events, confirmations: await queries.confirmationsOf(events) };
      });
      const lines = flags.json
        ? found.map((d) => escapeJson(stringifyEventDetail(d)))
        : found.flatMap((e, i) => [...(i ? [''] : []), ...renderDetail(e, confirmations)]);
      for (const line of lines) print(line);
    });
}

function renderDetail(d: EventDetail, confirmations: ReadonlyMap<string, PayoutConfirmation>): string[] {
  const e = d.event;
  const lines: string[] = [];
  if (e.source === 'skypay') {
    if (e.type === 'finance') {
      lines.push(`event ${e.id}: finance ${e.signType} (statementType ${e.statementType}), received ${e.receivedAt}`);
      lines.push(`  reference        ${e.referenceNumber}`, `  account          ${e.accountNo}`);
      lines.push(`  partner          ${e.partner}`, `  amount           ${e.amount} ${e.currency}`);
      lines.push(`  transaction date ${e.transactionDate} (SkyPay time; ${e.transactionDateUtc})`);
    } else {
      lines.push(`event ${e.id}: payout ${e.status} (payType ${e.payType}), received ${e.receivedAt}`);
      lines.push(`  control number   ${e.controlNumber}`, `  partner          ${e.partner}`);
      lines.push(`  deal time        ${e.dealTime} (SkyPay time; ${e.dealTimeUtc})`);
      lines.push(`  reference        ${formatValue(e.referenceNumber)}`);
      lines.push(`  fail description ${formatValue(e.failDescription)}`);
    }
    if (Object.keys(e.extra).length) lines.push(`  extra fields     ${stringifyExtra(e.extra)}`);
    if (e.type === 'payout' && e.transition) {
      const t = e.transition;
      lines.push(`  transition       ${t.kind} (${t.from ?? '—'} → ${t.to})`);
    }
    if (e.type === 'payout') {
      // The payout's confirmation now, and what it was when this status was stored if that differs.
      const now = confirmations.get(payoutKey(e.partner, e.controlNumber));
      const then = e.confirmation !== undefined && e.confirmation !== now ? ` (${e.confirmation} when stored)` : '';
      if (now !== undefined) lines.push(`  confirmation     ${now}: ${describeConfirmation(now)}${then}`);
    }
    lines.push(`  copies after it  ${d.duplicates}${d.lastSeenAt ? ` (last ${d.lastSeenAt})` : ''}`);
    if (d.conflicts.length) {
      lines.push(`  conflicting copies ${d.conflicts.length} (same identity, other content; kept, not relayed)`);
    }
    for (const c of d.conflicts) {
      const content = listContent(c.copy);
      const again = c.repeats ? ` (and ${c.repeats} more time${c.repeats === 1 ? '' : 's'})` : '';
      lines.push(`    copy ${c.id} received ${c.receivedAt}${again}, differs in ${c.differs.join(', ') || 'nothing'}`);
      for (const name of c.differs) lines.push(`      ${name.padEnd(16)} ${content.get(name) ?? '(absent)'}`);
    }
  } else {
    lines.push(`event ${e.id}: skyrelay ${e.type}, raised ${e.receivedAt}`);
    for (const [key, value] of Object.entries(e.data))
      lines.push(
        `  ${key.padEnd(16)} ${value !== null && typeof value === 'object' ? JSON.stringify(value) : formatValue(value)}`,
      );
  }
  for (const s of d.silenced) {
    lines.push(`  ${s.destination}: silenced by ${s.silenceId} (not sent; rules ${s.rules.join(', ')})`);
  }
  for (const g of d.groups) {
    const carried =
      g.messageEventId === null
        ? `waiting in its group since ${g.joinedAt}`
        : `carried by group message ${g.messageEventId} (delivery ${g.deliveryId ?? '—'}: ${g.state})`;
    lines.push(`  grouped → ${g.destination}: ${carried}, rules ${g.rules.join(', ')}`);
  }
  if (d.deliveries.length === 0 && d.groups.length === 0 && d.silenced.length === 0) {
    lines.push('  deliveries: none (no rule chose a destination)');
  }
  for (const dl of d.deliveries) {
    lines.push(
      `  delivery ${dl.id} → ${dl.destination}: ${dl.state}, ${describeAttemptCount(dl)}, rules ${dl.rules.join(', ')}`,
    );
    if (dl.state === 'pending') lines.push(`    next attempt ${dl.nextAttemptAt}`);
    let round = 1;
    for (const a of numberAttempts(dl.attemptLog)) {
      if (a.round !== round) lines.push('    (replayed)');
      round = a.round;
      const status = a.status === null ? '' : ` HTTP ${a.status}`;
      const why = a.error ? `: ${a.error}` : a.response ? `: ${a.response.slice(0, 120)}` : '';
      lines.push(`    #${a.number} ${a.startedAt} ${a.outcome}${status} in ${a.durationMs} ms${why}`);
    }
  }
  return lines;
}
