import { is } from 'superstruct';
import type { RelayEvent } from '../event';
import { compileMatch } from '../routing/match';
import { Match } from '../routing/schema';
import type { NewDelivery } from '../delivery/types';
import type { SilenceView } from './types';
import { isHealthAlert, namesSystemEvents } from './silence-scope';

/** The destination types a silence without `destinations` covers: people's channels, never machines' feeds. */
export const SILENCED_BY_DEFAULT: ReadonlySet<string> = new Set(['slack', 'email']);

export interface CompiledSilence {
  readonly id: string;
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  /** Undefined: every Slack and email destination. */
  readonly destinations: ReadonlySet<string> | undefined;
  /** As for rules: skyrelay's own events are silenced only by a silence whose matchers name `source` or `type`. */
  readonly matchesSystemEvents: boolean;
  matches(event: RelayEvent): boolean;
}

/**
 * Compiles a stored silence once per refresh. Matchers were validated when the silence was made; one that no
 * longer validates (a row written by hand) is left out rather than trusted, and the caller says so.
 */
export function compileSilence(view: SilenceView): CompiledSilence | undefined {
  if (!is(view.matchers, Match) || Object.keys(view.matchers).length === 0) return undefined;
  const expiredMs = view.expiredAt === null ? Infinity : Date.parse(view.expiredAt);
  return {
    id: view.id,
    startsAtMs: Date.parse(view.startsAt),
    endsAtMs: Math.min(Date.parse(view.endsAt), expiredMs),
    destinations: view.destinations === null ? undefined : new Set(view.destinations),
    matchesSystemEvents: namesSystemEvents(view.matchers),
    matches: compileMatch(view.matchers),
  };
}

export function isActive(silence: Pick<CompiledSilence, 'startsAtMs' | 'endsAtMs'>, now: number): boolean {
  return silence.startsAtMs <= now && now < silence.endsAtMs;
}

/** Whether `silence` covers `destination` (of `type`) for `event` at `now`. */
export function silences(
  silence: CompiledSilence,
  event: RelayEvent,
  destination: string,
  type: string | undefined,
  now: number,
): boolean {
  if (!isActive(silence, now) || isHealthAlert(event)) return false;
  const covered = silence.destinations ? silence.destinations.has(destination) : SILENCED_BY_DEFAULT.has(type ?? '');
  if (!covered) return false;
  if (event.source === 'skyrelay' && !silence.matchesSystemEvents) return false;
  return silence.matches(event);
}

/**
 * The planned deliveries with those an active silence covers marked `silencedBy` (the oldest such silence), so the
 * store records them on the event instead of writing a delivery. Pure: the caller passes the time and the types.
 */
export function applySilences(
  event: RelayEvent,
  planned: readonly NewDelivery[],
  active: readonly CompiledSilence[],
  typeOf: (destination: string) => string | undefined,
  now: number,
): NewDelivery[] {
  if (active.length === 0) return [...planned];
  return planned.map((delivery) => {
    const type = typeOf(delivery.destination);
    const by = active.find((s) => silences(s, event, delivery.destination, type, now));
    return by ? { ...delivery, silencedBy: by.id } : delivery;
  });
}

/** What a silence is at `now`: the same words in the CLI and the admin API. */
export type SilenceState = 'pending' | 'active' | 'expired';

export function silenceState(view: SilenceView, now: number): SilenceState {
  const endsAtMs = Math.min(Date.parse(view.endsAt), view.expiredAt === null ? Infinity : Date.parse(view.expiredAt));
  if (now >= endsAtMs) return 'expired';
  return now < Date.parse(view.startsAt) ? 'pending' : 'active';
}
