import type { Command } from 'commander';
import { parseName } from '../operations/filters';
import type { Ledger } from '../operations/views';
import { EXIT_UNBALANCED, QuietExit, UsageError, loadCliConfig, parseFlag, print, withOperations } from './context';
import { escapeJson, renderTable } from './format';

interface LedgerFlags {
  day?: string;
  partner?: string;
  json?: boolean;
  csv?: boolean;
}

/** `skyrelay ledger`: a day's callbacks, events, routes and payouts added up; exits 3 when they do not balance. */
export function registerLedger(program: Command): void {
  program
    .command('ledger')
    .description(
      "add up a day's callbacks, events, routes and payouts and show whether they balance (exit 0) or not (exit 3)",
    )
    .option('--day <YYYY-MM-DD>', 'the day in skypay.timezone (default: yesterday)')
    .option('--partner <userName>', "only this partner's callbacks, events, routes and payouts")
    .option('--json', 'the ledger as one JSON object (the same as GET /admin/ledger)')
    .option('--csv', 'the ledger as CSV: section, key, detail, value')
    .action(async (flags: LedgerFlags) => {
      if (flags.json && flags.csv) throw new UsageError('--json and --csv: choose one');
      const partner = parseFlag(() => (flags.partner === undefined ? undefined : parseName(flags.partner, 'partner')));
      const ledger = await withOperations(loadCliConfig(), (o) => o.ledger.compute({ day: flags.day, partner }));
      const lines = flags.json
        ? [escapeJson(JSON.stringify(ledger))]
        : flags.csv
          ? ledgerCsv(ledger)
          : renderLedger(ledger);
      for (const line of lines) print(line);
      if (!ledger.balanced) throw new QuietExit(EXIT_UNBALANCED);
    });
}

const listed = (counts: Readonly<Record<string, number>>): string => {
  const parts = Object.entries(counts)
    .filter(([, n]) => n !== 0)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
};

/** The ledger as a person reads it: each section on its lines, the equations spelt out, the verdict first. */
export function renderLedger(ledger: Ledger): string[] {
  const { callbacks: c, events: e, payouts: p } = ledger;
  const scope = ledger.partner === null ? 'all partners' : `partner ${ledger.partner}`;
  const rejected = Object.values(c.rejected).reduce((a, b) => a + b, 0);
  const open = p.stillOpen.under1h + p.stillOpen.under24h + p.stillOpen.older;
  return [
    `Ledger ${ledger.day} (${ledger.timezone}: ${ledger.from} to ${ledger.to}), ${scope}: ${ledger.balanced ? 'BALANCED' : 'NOT BALANCED'}`,
    '',
    `Callbacks  accepted ${c.accepted} = events from callbacks ${e.callback} + duplicates ${c.duplicates} + conflicting copies ${c.conflictingCopies}`,
    `           rejected ${rejected} (${listed(c.rejected)}), ${c.suppressed} of them counted but not kept`,
    `Events     from callbacks ${e.callback}, from reconciliation ${e.reconciliation}, skyrelay's own ${e.skyrelay}`,
    `Payouts    opened ${p.opened}: paid ${p.finalised.paid}, cancelled ${p.finalised.cancelled}, failed ${p.finalised.failed}; ` +
      `still open ${open} (under 1 h ${p.stillOpen.under1h}, under 24 h ${p.stillOpen.under24h}, older ${p.stillOpen.older}); ` +
      `stuck ${p.stuck}`,
    `           anomalies ${listed(p.anomalies)}; confirmed by SkyPay ${p.confirmed}, contradicted ${p.contradicted}`,
    '',
    ...renderRoutes(ledger),
    '',
    ...(ledger.unexplained.length === 0
      ? ['Unexplained: none']
      : ['Unexplained:', ...ledger.unexplained.map((u) => `  ${u.kind} ${u.id}: ${u.why}`)]),
  ];
}

function renderRoutes(ledger: Ledger): string[] {
  const rows = Object.entries(ledger.routes);
  if (rows.length === 0) return ['Routes: none (no rule chose a destination for these events)'];
  return renderTable(
    [
      'DESTINATION',
      'ROUTED',
      'DELIVERED',
      'IN GROUP',
      'SILENCED',
      'DEAD',
      'PENDING',
      'INFLIGHT',
      'REPLAYED',
      'OLDEST PENDING',
    ],
    rows.map(([destination, r]) => [
      destination,
      ...[r.routed, r.delivered, r.deliveredInGroup, r.silenced, r.dead, r.pending, r.inflight, r.replayed].map(String),
      r.oldestPendingSeconds === null ? '—' : `${r.oldestPendingSeconds} s`,
    ]),
  );
}

/** One CSV cell: quoted when it must be, and never read as a formula by a spreadsheet. */
function cell(value: string | number | boolean): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** section, key, detail, value: one number a row, for a spreadsheet. */
export function ledgerCsv(ledger: Ledger): string[] {
  const rows: (string | number | boolean)[][] = [['section', 'key', 'detail', 'value']];
  rows.push(['day', ledger.day, ledger.timezone, ledger.partner ?? '']);
  const { rejected, ...callbacks } = ledger.callbacks;
  for (const [key, n] of Object.entries(callbacks)) rows.push(['callbacks', key, '', n]);
  for (const [reason, n] of Object.entries(rejected)) rows.push(['callbacks', 'rejected', reason, n]);
  for (const [origin, n] of Object.entries(ledger.events)) rows.push(['events', origin, '', n]);
  for (const [destination, r] of Object.entries(ledger.routes)) {
    for (const [key, n] of Object.entries(r)) rows.push(['routes', key, destination, n ?? '']);
  }
  const { finalised, stillOpen, anomalies, ...payouts } = ledger.payouts;
  for (const [key, n] of Object.entries(payouts)) rows.push(['payouts', key, '', n]);
  for (const [status, n] of Object.entries(finalised)) rows.push(['payouts', 'finalised', status, n]);
  for (const [age, n] of Object.entries(stillOpen)) rows.push(['payouts', 'stillOpen', age, n]);
  for (const [kind, n] of Object.entries(anomalies)) rows.push(['payouts', 'anomalies', kind, n]);
  for (const u of ledger.unexplained) rows.push(['unexplained', u.kind, u.id, u.why]);
  rows.push(['balanced', '', '', ledger.balanced]);
  return rows.map((r) => r.map(cell).join(','));
}
