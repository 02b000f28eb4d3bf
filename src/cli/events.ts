import type { Command } from 'commander';
import { checkRejectionFilters, parseEventType, parseLimit, parseSince, parseStatus } from '../operations/filters';
import type { EventSummary } from '../operations/views';
import { loadCliConfig, parseFlag, print, withOperations } from './context';
import { clip, jsonLines, renderTable, shortTime } from './format';
import { formatRejections } from './rejections';

interface EventsFlags {
  controlNumber?: string;
  status?: string;
  type?: string;
  since?: string;
  limit: string;
  json?: boolean;
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('list stored events, newest first')
    .option('--control-number <number>', 'only this payout')
    .option('--status <status>', 'only this payout status (failure, paid, … or 1-6)')
    .option(
      '--type <type>',
      'payout, rejection (refused callbacks, as `skyrelay rejections`), delivery.dead, database.lost, destination.unhealthy, destination.recovered, callback.conflict, payout.anomaly, payout.stuck, payout.unstuck or payout.confirmed',
    )
    .option('--since <when>', 'received within this long (24h, 7d) or since an ISO time')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'one JSON object per line')
    .action(async (flags: EventsFlags) => {
      const filter = parseFlag(() => ({
        controlNumber: flags.controlNumber,
        status: flags.status === undefined ? undefined : parseStatus(flags.status),
        type: flags.type === undefined ? undefined : parseEventType(flags.type),
        sinceMs: flags.since === undefined ? undefined : parseSince(flags.since),
      }));
      const limit = parseFlag(() => parseLimit(flags.limit));
      if (filter.type === 'rejection') {
        parseFlag(() => checkRejectionFilters({ '--control-number': filter.controlNumber, '--status': filter.status }));
        const only = { sinceMs: filter.sinceMs };
        const { items } = await withOperations(loadCliConfig(), (o) => o.queries.listRejections(only, limit));
        for (const line of formatRejections(items, flags.json === true)) print(line);
        return;
      }
      const { items: events } = await withOperations(loadCliConfig(), (o) => o.queries.listEvents(filter, limit));
      const lines = flags.json ? jsonLines(events) : events.length ? renderEvents(events) : ['no events match'];
      for (const line of lines) print(line);
    });
}

function renderEvents(events: readonly EventSummary[]): string[] {
  return renderTable(
    ['RECEIVED', 'ID', 'WHAT', 'CONTROL NUMBER', 'PARTNER', 'COPIES', 'DELIVERIES'],
    events.map((e) => [
      shortTime(e.receivedAt),
      e.id,
      // A finance notification has no payout status: its type says what it is.
      e.source === 'skypay' ? (e.status ?? e.type) : e.type,
      e.controlNumber ?? '—',
      clip(e.partner, 24),
      String(e.duplicates),
      describeDeliveries(e.deliveries),
    ]),
  );
}

export function describeDeliveries(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`);
  return parts.length ? parts.join(', ') : 'none';
}
