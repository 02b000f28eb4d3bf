import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { Config } from '../config/schema';
import { parseSince } from '../operations/filters';
import type { ReplayRequest } from '../operations/replay';
import type { ReplayResult } from '../operations/views';
import { CommandFailed, UsageError, loadCliConfig, parseFlag, print, withOperations } from './context';

interface ReplayFlags {
  dead?: boolean;
  delivered?: boolean;
  destination?: string;
  since?: string;
  event?: string;
  yes?: boolean;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('put deliveries back in the queue with a fresh attempt budget; the running daemon sends them')
    .argument('[deliveryIds...]', 'deliveries to send again')
    .option('--dead', 'every dead delivery (narrow with --destination, --since)')
    .option('--delivered', 'delivered deliveries again; needs --since or --destination, and asks to confirm the count')
    .option('--destination <name>', 'with --dead or --delivered: only this destination')
    .option(
      '--since <when>',
      'with --dead or --delivered: only deliveries finished within this long (24h) or since an ISO time',
    )
    .option('--event <eventId>', 'send one event again to the destinations the current rules choose')
    .option('--yes', 'with --delivered: do not ask (for scripts)')
    .action(async (ids: string[], flags: ReplayFlags) => {
      const modes = [ids.length > 0, flags.dead === true, flags.delivered === true, flags.event !== undefined].filter(
        Boolean,
      ).length;
      if (modes !== 1)
        throw new UsageError(
          'give delivery ids, or --dead, or --delivered, or --event <eventId> (exactly one of them)',
        );
      const bulk = flags.dead === true || flags.delivered === true;
      if (!bulk && (flags.destination !== undefined || flags.since !== undefined)) {
        throw new UsageError('--destination and --since narrow --dead or --delivered; use them with one of those');
      }
      if (flags.yes && !flags.delivered)
        throw new UsageError('--yes answers the question --delivered asks; use it with --delivered');
      const sinceMs = flags.since === undefined ? undefined : parseFlag(() => parseSince(flags.since ?? ''));
      const config = loadCliConfig();
      if (flags.destination !== undefined) requireKnownDestination(config, flags.destination);
      const request: ReplayRequest = {
        state: flags.delivered ? 'delivered' : 'dead',
        destination: flags.destination,
        sinceMs,
      };
      const result = await withOperations(config, async ({ replays }): Promise<ReplayResult | undefined> => {
        if (bulk) {
          const confirm = flags.delivered
            ? await confirmCount(await replays.countMatching(request), flags.yes)
            : undefined;
          return confirm === 0 ? undefined : replays.replayMatching({ ...request, confirm });
        }
        return flags.event === undefined ? replays.replayDeliveries(ids) : replays.replayEvent(flags.event);
      });
      if (!result) return print('nothing to replay');
      for (const id of result.requeued) print(`requeued ${id}`);
      for (const id of result.created) print(`created  ${id} (a destination the current rules add)`);
      for (const s of result.skipped) print(`skipped  ${s.id}: ${s.reason}`);
      const sent = result.requeued.length + result.created.length;
      print(
        sent === 0
          ? 'nothing to replay'
          : `${sent} deliver${sent === 1 ? 'y' : 'ies'} queued; the daemon sends within delivery.pollIntervalMs (${config.delivery.pollIntervalMs} ms)`,
      );
      // Named deliveries that could not be replayed are a failure; an empty --dead sweep is not.
      if (ids.length > 0 && result.skipped.length > 0)
        throw new CommandFailed(`${result.skipped.length} of ${ids.length} not replayed`);
    });
}

/** A typo in --destination would otherwise match nothing and say "nothing to replay", as if all were well. */
function requireKnownDestination(config: Config, name: string): void {
  if (Object.hasOwn(config.destinations, name)) return;
  const known = Object.keys(config.destinations);
  throw new CommandFailed(
    `no destination "${name}" in the configuration (configured: ${known.length ? known.join(', ') : 'none'})`,
  );
}

/**
 * Has a person confirm the count --delivered would re-send, on a terminal, or --yes in a script; the count goes with
 * the replay, which refuses if it changed meanwhile. Without a terminal and without --yes it refuses: a script must
 * say it means it.
 */
async function confirmCount(count: number, yes: boolean | undefined): Promise<number> {
  if (count === 0 || yes) return count;
  const question = `requeue ${count} deliver${count === 1 ? 'y' : 'ies'}? [y/N] `;
  if (!process.stdin.isTTY) {
    throw new CommandFailed(
      `${count} delivered deliver${count === 1 ? 'y' : 'ies'} would be sent again; no terminal to ask on: add --yes to confirm`,
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await prompt.question(question);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CommandFailed('not confirmed: nothing was replayed');
  } finally {
    prompt.close();
  }
  return count;
}
