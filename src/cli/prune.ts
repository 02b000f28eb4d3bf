import type { Command } from 'commander';
import { parseDuration } from '../operations/filters';
import type { PruneCutoffs } from '../operations/views';
import { loadCliConfig, parseFlag, print, withOperations } from './context';

interface PruneFlags {
  olderThan?: string;
  rejectionsOlderThan?: string;
  dryRun?: boolean;
}

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description(
      'delete old events (with their finished deliveries and attempts) and old rejections now, as the retention job does',
    )
    .option('--older-than <age>', 'events older than this (default: store.retentionDays)')
    .option('--rejections-older-than <age>', 'rejections older than this (default: store.rejectionRetentionDays)')
    .option('--dry-run', 'only count what would go')
    .action(async (flags: PruneFlags) => {
      const config = loadCliConfig();
      const now = Date.now();
      const cut: PruneCutoffs = parseFlag(() => ({
        eventsBeforeMs:
          now -
          (flags.olderThan ? parseDuration(flags.olderThan, '--older-than') : config.store.retentionDays * 86_400_000),
        rejectionsBeforeMs:
          now -
          (flags.rejectionsOlderThan
            ? parseDuration(flags.rejectionsOlderThan, '--rejections-older-than')
            : config.store.rejectionRetentionDays * 86_400_000),
        // Callback identities follow their own setting only: an --older-than for events must not end dedup.
        ...(config.store.dedupRetentionDays === undefined
          ? {}
          : { keysBeforeMs: now - config.store.dedupRetentionDays * 86_400_000 }),
      }));
      const events = `events received before ${new Date(cut.eventsBeforeMs).toISOString()}`;
      const rejections = `rejections before ${new Date(cut.rejectionsBeforeMs).toISOString()}`;
      if (flags.dryRun) {
        const n = await withOperations(config, (o) => o.countPrunable(cut));
        print(`would delete ${n.events} ${events} (none with a pending delivery) and ${n.rejections} ${rejections}`);
        return;
      }
      const n = await withOperations(config, (o) => o.prune(cut));
      print(`deleted ${n.events} ${events}, with ${n.deliveries} deliveries and ${n.attempts} attempts`);
      print(`deleted ${n.rejections} ${rejections}`);
      if (cut.keysBeforeMs !== undefined) print(`deleted ${n.keys} callback identities (dedup keys) of pruned events`);
    });
}
