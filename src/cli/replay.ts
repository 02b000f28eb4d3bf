import type { Command } from 'commander';
import { parseSince } from '../admin/filters';
import { createId } from '../ids';
import { compileRules, planRoutes } from '../routing/match';
import { replayDeliveries, replayEvent, replayMatching, type ReplayResult } from '../store/queries';
import { CommandFailed, UsageError, loadCliConfig, parseFlag, print, withDatabase } from './context';

interface ReplayFlags {
  dead?: boolean;
  destination?: string;
  since?: string;
  event?: string;
}

export function registerReplay(program: Command): void {
  program.command('replay')
    .description('put deliveries back in the queue with a fresh attempt budget; the running daemon sends them')
    .argument('[deliveryIds...]', 'deliveries to send again')
    .option('--dead', 'every dead delivery (narrow with --destination, --since)')
    .option('--destination <name>', 'with --dead: only this destination')
    .option('--since <when>', 'with --dead: only deliveries that died within this long (24h) or since an ISO time')
    .option('--event <eventId>', 'send one event again to the destinations the current rules choose')
    .action(async (ids: string[], flags: ReplayFlags) => {
      const modes = [ids.length > 0, flags.dead === true, flags.event !== undefined].filter(Boolean).length;
      if (modes !== 1) throw new UsageError('give delivery ids, or --dead, or --event <eventId> (exactly one of them)');
      if (!flags.dead && (flags.destination !== undefined || flags.since !== undefined)) {
        throw new UsageError('--destination and --since narrow --dead; use them with --dead');
      }
      const sinceMs = flags.since === undefined ? undefined : parseFlag(() => parseSince(flags.since ?? ''));
      const config = loadCliConfig();
      const rules = compileRules(config.rules);
      const result = await withDatabase(config, (db): ReplayResult => {
        if (flags.dead) return replayMatching(db, { state: 'dead', destination: flags.destination, sinceMs });
        if (flags.event === undefined) return replayDeliveries(db, ids);
        const r = replayEvent(db, flags.event, (event) =>
          planRoutes(event, rules).map((route) => ({ id: createId('dlv'), destination: route.destination, rules: route.rules })));
        if (!r) throw new CommandFailed(`no event with id "${flags.event}"`);
        return r;
      });
      for (const id of result.requeued) print(`requeued ${id}`);
      for (const id of result.created) print(`created  ${id} (a destination the current rules add)`);
      for (const s of result.skipped) print(`skipped  ${s.id}: ${s.reason}`);
      const sent = result.requeued.length + result.created.length;
      print(sent === 0 ? 'nothing to replay'
        : `${sent} deliver${sent === 1 ? 'y' : 'ies'} queued; the daemon sends within delivery.pollIntervalMs (${config.delivery.pollIntervalMs} ms)`);
      // Named deliveries that could not be replayed are a failure; an empty --dead sweep is not.
      if (ids.length > 0 && result.skipped.length > 0) throw new CommandFailed(`${result.skipped.length} of ${ids.length} not replayed`);
    });
}
