import type { Command } from 'commander';
import { parseLimit, parseReason, parseSince } from '../operations/filters';
import type { RejectionView } from '../operations/views';
import { loadCliConfig, parseFlag, print, withOperations } from './context';
import { clip, jsonLines, renderTable, shortTime } from './format';

interface RejectionsFlags {
  since?: string;
  reason?: string;
  limit: string;
  json?: boolean;
}

export function registerRejections(program: Command): void {
  program
    .command('rejections')
    .description('list refused callbacks, newest first (every one, whatever the rules route)')
    .option('--since <when>', 'received within this long (24h, 7d) or since an ISO time')
    .option('--reason <reason>', 'only this rejection reason (unauthenticated, invalid, malformed, too_large, …)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'one JSON object per line')
    .action(async (flags: RejectionsFlags) => {
      const filter = parseFlag(() => ({
        reason: flags.reason === undefined ? undefined : parseReason(flags.reason),
        sinceMs: flags.since === undefined ? undefined : parseSince(flags.since),
      }));
      const limit = parseFlag(() => parseLimit(flags.limit));
      const { items } = await withOperations(loadCliConfig(), (o) => o.queries.listRejections(filter, limit));
      for (const line of formatRejections(items, flags.json === true)) print(line);
    });
}

/** Also what `skyrelay events --type rejection` prints. */
export function formatRejections(rows: readonly RejectionView[], json: boolean): string[] {
  if (json) return jsonLines(rows);
  if (!rows.length) return ['no rejections match'];
  return renderTable(
    ['RECEIVED', 'ID', 'FROM', 'STATUS', 'REASON', 'PARTNER', 'DESCRIPTION'],
    rows.map((r) => [
      shortTime(r.receivedAt),
      r.id,
      r.remoteAddress ?? '—',
      String(r.status),
      r.reason,
      clip(r.partner, 24),
      r.suppressed > 0 ? `${clip(r.description, 44)} (+${r.suppressed} not kept)` : clip(r.description, 60),
    ]),
  );
}
