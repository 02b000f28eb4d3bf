import type { Command } from 'commander';
import type { DestinationAction, DestinationStatus } from '../operations/destinations';
import { loadCliConfig, print, withOperations } from './context';
import { clip, jsonLines, renderTable, shortTime } from './format';
import { cliActor } from './silence';

/**
 * `skyrelay destinations`: each destination's breaker state, backlog and last outcomes; `skyrelay destination
 * pause|resume NAME`: by hand, for every process on the store (the daemons see it at their next claim).
 */
export function registerDestinations(program: Command): void {
  program
    .command('destinations')
    .description('list destinations: breaker state (closed, open, paused), backlog, last success and last error')
    .option('--json', 'one JSON object per line')
    .action(async (flags: { json?: boolean }) => {
      const rows = await withOperations(loadCliConfig(), (o) => o.destinations.list());
      const lines = flags.json ? jsonLines(rows) : rows.length ? renderDestinations(rows) : ['no destinations'];
      for (const line of lines) print(line);
    });

  const destination = program
    .command('destination')
    .description('pause or resume sends to one destination, in every process');
  destination
    .command('pause <name>')
    .description('send nothing to it until resumed; its deliveries wait pending, new ones are still taken')
    .action(async (name: string) => {
      const done = await withOperations(loadCliConfig(), (o) => o.destinations.pause(name, cliActor().via));
      print(describeAction(done, 'paused'));
    });
  destination
    .command('resume <name>')
    .description('send to it again (also closes an open breaker): its waiting deliveries go out oldest first')
    .action(async (name: string) => {
      const done = await withOperations(loadCliConfig(), (o) => o.destinations.resume(name, cliActor().via));
      print(describeAction(done, 'resumed'));
    });
}

function describeAction(done: DestinationAction, verb: 'paused' | 'resumed'): string {
  if (!done.changed) return `${done.destination} was already ${done.state}`;
  const alert = done.alert === null ? '' : `; raised destination.${done.alert}`;
  const waiting = `${done.backlog} deliver${done.backlog === 1 ? 'y' : 'ies'}`;
  return verb === 'paused'
    ? `${done.destination} paused: nothing is sent to it until \`skyrelay destination resume ${done.destination}\`; ${waiting} waiting${alert}`
    : `${done.destination} resumed: ${waiting} waiting ${done.backlog === 1 ? 'goes' : 'go'} out oldest first${alert}`;
}

function describeState(d: DestinationStatus): string {
  if (d.state === 'closed') return d.breaker === undefined ? 'closed (no breaker)' : 'closed';
  const why = d.reason === 'gone' ? '410 Gone' : d.reason === 'manual' ? `by ${d.pausedBy ?? 'hand'}` : 'failures';
  return `${d.state} (${why}) since ${d.since === null ? '?' : shortTime(d.since)}`;
}

function renderDestinations(rows: readonly DestinationStatus[]): string[] {
  return renderTable(
    ['NAME', 'TYPE', 'STATE', 'BACKLOG', 'DEAD', 'LAST SUCCESS', 'LAST ERROR'],
    rows.map((d) => [
      d.name,
      d.type ?? 'not configured',
      describeState(d),
      String(d.backlog),
      String(d.dead),
      d.lastSuccessAt === null ? '-' : shortTime(d.lastSuccessAt),
      d.lastErrorAt === null ? '-' : `${shortTime(d.lastErrorAt)} ${clip(d.lastError, 50)}`,
    ]),
  );
}
