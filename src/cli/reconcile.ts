import type { Command } from 'commander';
import { Silences } from '../alerts/silences';
import { createLogger } from '../log';
import { createPayoutPolicy } from '../payouts/policy';
import type { ReconcileItem, RoundReport } from '../payouts/reconciler';
import { confirmationOptions, createReconciler } from '../payouts/reconciler';
import { createPlanner } from '../routing/plan';
import { CommandFailed, UsageError, loadCliConfig, print, withStore } from './context';
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
      if (config.skypay.statusQuery.url === undefined) {
        throw new CommandFailed(
          'skypay.statusQuery is not configured: set skypay.statusQuery.url and skypay.statusQuery.partner',
        );
      }
      const logger = createLogger({ level: 'silent' });
      const report = await withStore(config, async (store) => {
        // Active silences hold back what a round stores, as in the daemon.
        const silences = new Silences({
          store,
          plan: createPlanner(config.rules).plan,
          typeOf: (name) => config.destinations[name]?.type,
          refreshIntervalMs: config.silences.refreshIntervalMs,
          logger,
        });
        await silences.start();
        try {
          const reconciler = createReconciler(
            config,
            store,
            createPayoutPolicy(silences.plan, undefined, confirmationOptions(config)),
            logger,
          );
          if (!reconciler) throw new CommandFailed('skypay.statusQuery is not configured');
          const options = { dryRun: flags.dryRun === true, ...(controlNumbers ? { controlNumbers } : {}) };
          if (options.dryRun) return await reconciler.round(options);
          const done = await reconciler.runExclusive(options);
          if (!done) throw new CommandFailed('another skyrelay process is reconciling right now; try again shortly');
          return done;
        } finally {
          await silences.stop();
        }
      });
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
