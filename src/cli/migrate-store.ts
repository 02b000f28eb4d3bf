import type { Command } from 'commander';
import { migrateStore, TABLES_NOT_COPIED, type CopyProgress } from '../operations/migrate-store';
import { UsageError, loadCliConfig, parseFlag, print } from './context';
import { escapeControls } from './format';

interface MigrateFlags {
  to?: string;
  batchSize?: string;
}

const DEFAULT_BATCH = 500;

export function registerMigrateStore(program: Command): void {
  program
    .command('migrate-store')
    .description(
      'copy everything a daemon keeps in the SQLite file at store.path (history, payouts, silences, alerts waiting ' +
        'in groups) into PostgreSQL; run it again to continue an interrupted copy (nothing is copied twice)',
    )
    .requiredOption('--to <url>', 'the PostgreSQL database: postgres://user:password@host:5432/skyrelay')
    .option('--batch-size <n>', `rows per transaction (default ${DEFAULT_BATCH})`)
    .action(async (flags: MigrateFlags) => {
      const url = flags.to ?? '';
      // The URL is never echoed: it may hold a password.
      if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError('--to must be a postgres:// URL');
      const batchSize = parseFlag(() => parseBatchSize(flags.batchSize));
      const config = loadCliConfig();
      const from = config.store.path;
      const inserted = await migrateStore({
        from,
        to: url,
        batchSize,
        onProgress: printProgress,
        // As the daemon judges its peers: a process silent for three publish intervals is gone.
        writerStaleAfterMs: config.metrics.publishIntervalMs * 3,
      });
      const total = [...inserted.values()].reduce((a, b) => a + b, 0);
      print(`copied ${total} rows from ${from}: ` + [...inserted].map(([table, n]) => `${n} ${table}`).join(', '));
      print(
        `not copied (written again by each daemon, or counted again from the copied rows): ${TABLES_NOT_COPIED.join(', ')}`,
      );
    });
}

function parseBatchSize(text: string | undefined): number {
  if (text === undefined) return DEFAULT_BATCH;
  const n = Number(text);
  // 65535 bind parameters per statement, 14 columns in the widest table.
  if (!Number.isInteger(n) || n < 1 || n > 4000) throw new UsageError('--batch-size must be an integer from 1 to 4000');
  return n;
}

/** One line per committed page, on stderr so stdout keeps only the result. */
function printProgress(p: CopyProgress): void {
  process.stderr.write(
    escapeControls(`migrate-store: ${p.table} ${p.done}/${p.total} (${p.inserted} new this run)`) + '\n',
  );
}
