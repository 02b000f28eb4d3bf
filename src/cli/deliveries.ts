import type { Command } from 'commander';
import { parseLimit, parseSince, parseState } from '../operations/filters';
import type { DeliveryView } from '../operations/views';
import { loadCliConfig, parseFlag, print, withOperations } from './context';
import { clip, jsonLines, renderTable, shortTime } from './format';

interface DeliveriesFlags {
  state?: string;
  destination?: string;
  since?: string;
  held?: boolean;
  limit: string;
  json?: boolean;
}

export function registerDeliveries(program: Command): void {
  program
    .command('deliveries')
    .description('list deliveries, newest first')
    .option('--state <state>', 'pending, inflight, delivered or dead')
    .option('--destination <name>', 'only this destination')
    .option('--since <when>', 'state changed within this long (24h) or since an ISO time')
    .option('--held', 'only dead deliveries that hold their payout back at an ordered destination (release or replay)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'one JSON object per line')
    .action(async (flags: DeliveriesFlags) => {
      const filter = parseFlag(() => ({
        state: flags.state === undefined ? undefined : parseState(flags.state),
        destination: flags.destination,
        sinceMs: flags.since === undefined ? undefined : parseSince(flags.since),
        held: flags.held,
      }));
      const limit = parseFlag(() => parseLimit(flags.limit));
      const { items: rows } = await withOperations(loadCliConfig(), (o) => o.queries.listDeliveries(filter, limit));
      const lines = flags.json ? jsonLines(rows) : rows.length ? renderDeliveries(rows) : ['no deliveries match'];
      for (const line of lines) print(line);
    });
}

function renderDeliveries(rows: readonly DeliveryView[]): string[] {
  return renderTable(
    ['UPDATED', 'ID', 'DESTINATION', 'STATE', 'ATTEMPTS', 'EVENT', 'LAST ERROR'],
    rows.map((d) => [
      shortTime(d.updatedAt),
      d.id,
      d.destination,
      d.state,
      String(d.attempts),
      d.controlNumber ?? d.eventType,
      clip(d.lastError, 50),
    ]),
  );
}
