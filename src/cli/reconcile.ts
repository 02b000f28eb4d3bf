import type { Command } from 'commander';
import { requireStatusQuery, type ReconcileItem, type RoundReport } from '../operations/reconcile';
import { CommandFailed, UsageError, loadCliConfig, print, withOperations } from './context';
import { jsonLines, renderTable } from './format';

const CONTROL_NUMBER = /^[A-Za-z0-9]{13,15}$/;

interface ReconcileFlags {
  dryRun?: boolean;
  controlNumber?: string[];
  json?: boolean;
}

/** `skyrelay reconcile`: one reconciliation round now, against the configured status query. */
export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description("ask SkyPay's status query about open payouts now and act on the answers, as the daemon does")
    .option('--dry-run', 'say what would be done; write nothing (no event, no anomaly, no reconciliation record)')
    .option(
      '--control-number <controlNumber...>',
      'ask about these payouts (any state, even unknown to skyrelay) instead of the open ones',
    )
    .option('--json', 'one JSON object per payout')
    .action(async (flags: ReconcileFlags) => {
      const controlNumbers = flags.controlNumber;
      const bad = controlNumbers?.find((c) => !CONTROL_NUMBER.test(c));
      if (bad !== undefined) {
        throw new UsageError(`--control-number ${JSON.stringify(bad)}: must be 13 to 15 letters or digits`);
      }
      const config = loadCliConfig();
      requireStatusQuery(config);
      const options = { dryRun: flags.dryRun === true, ...(controlNumbers ? { controlNumbers } : {}) };
      const report = await withOperations(config, (o) => o.reconcile(options));
      if (flags.json) for (const line of jsonLines(report.items)) print(line);
      else for (const line of renderReport(report)) print(line);
      if (report.failure) {
        throw new CommandFailed(`SkyPay's status query failed (${report.failure.outcome}): ${report.failure.message}`);
      }
    });
}

const DONE: Readonly<Record<ReconcileItem['outcome'], [done: string, wouldDo: string]>> = {
  created: ['created the missed event', 'would create the missed event'],
  duplicate: ['already stored', 'already stored'],
  agrees: ['nothing (agrees)', 'nothing (agrees)'],
  confirmed: ['confirmed (payout.confirmed)', 'would confirm (payout.confirmed)'],
  contradiction: ['raised payout.anomaly', 'would raise payout.anomaly'],
  'out-of-window': ['raised payout.anomaly (time out of window)', 'would raise payout.anomaly (time out of window)'],
  open: ['recorded (open)', 'would record (open)'],
  record: ['recorded', 'would record'],
  unkeyed: ['recorded (no time: no event)', 'would record (no time: no event)'],
  missing: ['recorded (not in the answer)', 'would record (not in the answer)'],
  unreadable: ['recorded (unreadable)', 'would record (unreadable)'],
};

export function renderReport(report: RoundReport): string[] {
  const head = `${report.dryRun ? 'dry run: ' : ''}asked SkyPay about ${report.asked} payout(s) in ${report.calls} call(s)`;
  if (report.items.length === 0) return [head, report.calls === 0 ? 'no open payout is old enough to ask about' : ''];
  return [
    head,
    ...renderTable(
      ['CONTROL NUMBER', 'SKYRELAY', 'SKYPAY STATUS', 'MEANS', 'DONE', 'EVENT'],
      report.items.map((i) => [
        i.controlNumber,
        i.held ?? '—',
        i.status === null ? '—' : `${i.status} ${i.statusDesc}`.trim(),
        i.meaning,
        (DONE[i.outcome] ?? ['', ''])[report.dryRun ? 1 : 0],
        i.eventId ?? '—',
      ]),
    ),
  ].filter((l) => l !== '');
}
