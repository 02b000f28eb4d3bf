import os from 'node:os';
import type { Command } from 'commander';
import { SilenceInputError, parseMatchFlags, parseSilence, type SilenceActor } from '../alerts/silence-input';
import { parseDuration, parseLimit } from '../operations/filters';
import type { SilenceView } from '../operations/views';
import { UsageError, loadCliConfig, parseFlag, print, withOperations } from './context';
import { clip, jsonLines, renderTable, shortTime } from './format';

interface AddFlags {
  match: string[];
  for?: string;
  endsAt?: string;
  startsAt?: string;
  by?: string;
  comment: string;
  destination?: string[];
  force?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * `skyrelay silence add|list|expire`: the admin API's /admin/silences, straight on the store. A running daemon
 * applies what this writes within silences.refreshIntervalMs (1 s), as it does for another host's silences.
 */
export function registerSilence(program: Command): void {
  const silence = program.command('silence').description('silence Slack and email for matching events for a while');

  silence
    .command('add')
    .description('make a silence: matching events get no Slack or email deliveries while it is active')
    .requiredOption('--match <field=value>', "a rule's match condition (repeat: all must hold)", collect)
    .option('--for <duration>', 'how long from its start (30m, 2h, 1d)')
    .option('--ends-at <time>', 'when it ends (ISO-8601 with a zone), instead of --for')
    .option('--starts-at <time>', 'when it starts (ISO-8601 with a zone); default now')
    .option('--by <name>', 'who makes it (kept for the audit; default: your OS user name)')
    .requiredOption('--comment <text>', 'why (a ticket, an outage)')
    .option('--destination <name>', 'silence only this destination (repeat; webhooks only when named)', collect)
    .option('--force', 'allow matchers that match every event of a kind (every payout, every alert)')
    .option('--json', 'print the silence as JSON')
    .action(async (flags: AddFlags) => {
      const config = loadCliConfig();
      const body = parseFlag(() => toBody(flags, Date.now()));
      const made = await withOperations(config, ({ silences }) =>
        silences.create(cliActor(), (context) => parseSilence(body, context)),
      );
      if (flags.json) for (const line of jsonLines([made])) print(line);
      else print(`${made.id}: silences ${describeMatchers(made)} until ${made.endsAt}`);
    });

  silence
    .command('list')
    .description('list silences (active, pending and expired), newest first')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'one JSON object per line')
    .action(async (flags: { limit: string; json?: boolean }) => {
      const limit = parseFlag(() => parseLimit(flags.limit));
      const { items: rows } = await withOperations(loadCliConfig(), ({ silences }) => silences.list(limit));
      if (flags.json) {
        for (const line of jsonLines(rows)) print(line);
        return;
      }
      if (rows.length === 0) return print('no silences');
      const table = renderTable(
        ['ID', 'STATE', 'MATCHERS', 'DESTINATIONS', 'STARTS', 'ENDS', 'BY', 'COMMENT'],
        rows.map((r) => {
          const ends = r.expiredAt
            ? `${shortTime(r.expiredAt)} (expired by ${r.expiredBy ?? '?'})`
            : shortTime(r.endsAt);
          return [
            r.id,
            r.state,
            clip(describeMatchers(r), 50),
            r.destinations?.join(',') ?? 'slack+email',
            shortTime(r.startsAt),
            ends,
            clip(r.createdBy, 20),
            clip(r.comment, 40),
          ];
        }),
      );
      for (const line of table) print(line);
    });

  silence
    .command('expire')
    .description('end a silence now (events from then on are sent again; nothing silenced is sent afterwards)')
    .argument('<id>', 'the silence id (sil_…)')
    .option('--by <name>', 'who ends it (kept for the audit; default: your OS user name)')
    .action(async (id: string, flags: { by?: string }) => {
      const view = await withOperations(loadCliConfig(), ({ silences }) => silences.expire(id, cliActor(), flags.by));
      print(`${view.id}: expired at ${view.expiredAt ?? ''} by ${view.expiredBy ?? ''}`);
    });
}

/** The flags as the admin API's body, so both go through the same validation. */
function toBody(flags: AddFlags, now: number): Record<string, unknown> {
  if ((flags.for === undefined) === (flags.endsAt === undefined)) {
    throw new UsageError('give exactly one of --for and --ends-at');
  }
  let matchers: Record<string, unknown>;
  try {
    matchers = parseMatchFlags(flags.match);
  } catch (err) {
    if (err instanceof SilenceInputError) throw new UsageError(err.message);
    throw err;
  }
  const startsAt = flags.startsAt;
  const startMs = startsAt === undefined ? now : Date.parse(startsAt);
  const endsAt =
    flags.for !== undefined
      ? new Date((Number.isNaN(startMs) ? now : startMs) + parseDuration(flags.for, '--for')).toISOString()
      : flags.endsAt;
  return {
    matchers,
    ...(startsAt !== undefined && { startsAt }),
    endsAt,
    ...(flags.by !== undefined && { createdBy: flags.by }),
    comment: flags.comment,
    ...(flags.destination && { destinations: flags.destination }),
    ...(flags.force && { force: true }),
  };
}

/**
 * Who runs the CLI, as amtool names a silence's author: the OS user (and who ran sudo, when they did), on this host.
 * The CLI needs no token (it opens the store directly), so the OS account is its credential.
 */
export function cliActor(): SilenceActor {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry for this uid (a bare container): the uid is still an answer.
    user = process.env['USER'] ?? `uid ${process.getuid?.() ?? '?'}`;
  }
  const sudo = process.env['SUDO_USER'];
  const through = sudo !== undefined && sudo !== '' && sudo !== user ? ` (sudo by ${sudo})` : '';
  return { name: user, via: `cli as OS user ${user}${through} on ${os.hostname()}`, from: null };
}

function describeMatchers(view: SilenceView): string {
  return Object.entries(view.matchers)
    .map(([field, value]) => `${field}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}
