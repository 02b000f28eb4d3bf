import type { Command } from 'commander';
import { stringifyExtra } from '../event-json';
import { listContent } from '../skypay/identity';
import { stringifyEventDetail } from '../store/detail-json';
import type { PayoutConfirmation } from '../event';
import { describeConfirmation } from '../payouts/lifecycle';
import type { PayoutStore } from '../store/store';
import type { EventDetail } from '../store/types';
import { CommandFailed, loadCliConfig, print, withStore } from './context';
import { escapeJson } from './format';

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('show an event (by id) or every event of a payout (by control number), with deliveries and attempts')
    .argument('<ref>', 'an event id (evt_…) or a control number')
    .option('--json', 'one JSON object per event')
    .action(async (ref: string, flags: { json?: boolean }) => {
      const { found, confirmations } = await withStore(loadCliConfig(), async (store) => {
        const byId = await store.getEvent(ref);
        const events = byId ? [byId] : await store.findEventsByControlNumber(ref);
        return { found: events, confirmations: await readConfirmations(store, events) };
      });
      if (found.length === 0) throw new CommandFailed(`no event with id or control number "${ref}"`);
      const lines = flags.json
        ? found.map((d) => escapeJson(stringifyEventDetail(d)))
        : found.flatMap((e, i) => [...(i ? [''] : []), ...renderDetail(e, confirmations)]);
      for (const line of lines) print(line);
    });
}

/** The payout of a payout event, as the confirmations map keys it. */
const payoutKey = (partner: string, controlNumber: string): string => JSON.stringify([partner, controlNumber]);

/** The current confirmation of each payout the events are statuses of (it moves on after an event is stored). */
async function readConfirmations(
  store: PayoutStore,
  events: readonly EventDetail[],
): Promise<Map<string, PayoutConfirmation>> {
  const confirmations = new Map<string, PayoutConfirmation>();
  for (const { event: e } of events) {
    if (e.source !== 'skypay' || e.type !== 'payout') continue;
    const key = payoutKey(e.partner, e.controlNumber);
    if (confirmations.has(key)) continue;
    const [payout] = await store.getPayouts(e.controlNumber, e.partner);
    if (payout) confirmations.set(key, payout.payout.confirmation);
  }
  return confirmations;
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
      lines.push(`  reference        ${e.referenceNumber ?? '—'}`, `  fail description ${e.failDescription ?? '—'}`);
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
        `  ${key.padEnd(16)} ${value === null ? '—' : typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
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
      `  delivery ${dl.id} → ${dl.destination}: ${dl.state}, ${dl.attempts} attempt(s) in this round, rules ${dl.rules.join(', ')}`,
    );
    if (dl.state === 'pending') lines.push(`    next attempt ${dl.nextAttemptAt}`);
    for (const a of dl.attemptLog) {
      const status = a.status === null ? '' : ` HTTP ${a.status}`;
      const why = a.error ? `: ${a.error}` : a.response ? `: ${a.response.slice(0, 120)}` : '';
      lines.push(`    #${a.attempt} ${a.startedAt} ${a.outcome}${status} in ${a.durationMs} ms${why}`);
    }
  }
  return lines;
}
