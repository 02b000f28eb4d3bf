import type { GroupEvent, RelayEvent } from '../event';
import type { DeliveryState, NewDelivery } from '../delivery/types';

/** Silences, rejection-alert windows and groups, as the store keeps them for every process. */
/**
 * A silence: while active (startsAt <= now < endsAt, not expired), events its matchers match create no deliveries
 * to the destinations it covers. `matchers` has a rule's `match` syntax, validated before it reaches the store.
 */
export interface NewSilence {
  id: string;
  matchers: Record<string, unknown>;
  /** Null: every Slack and email destination. Else exactly these destinations (webhooks only when named). */
  destinations: string[] | null;
  startsAtMs: number;
  endsAtMs: number;
  createdBy: string;
  createdAtMs: number;
  comment: string;
  /** How its maker was authenticated ("admin token 3f9a2c1b", "dashboard session …", "cli as OS user …"). */
  createdVia: string;
  /** The address the request came from; null from the CLI. */
  createdFrom: string | null;
}

/** How whoever ends a silence was authenticated, and from where, as NewSilence's createdVia and createdFrom. */
export interface SilenceAudit {
  via: string;
  from: string | null;
}

export interface SilenceView {
  id: string;
  matchers: Record<string, unknown>;
  destinations: string[] | null;
  startsAt: string;
  endsAt: string;
  createdBy: string;
  createdAt: string;
  comment: string;
  /** Set when someone ended it before endsAt (DELETE /admin/silences/:id, `skyrelay silence expire`). */
  expiredBy: string | null;
  expiredAt: string | null;
  /** As NewSilence's; null on silences made before they were recorded. */
  createdVia: string | null;
  createdFrom: string | null;
  expiredVia: string | null;
  expiredFrom: string | null;
}

export interface SilenceFilter {
  /** Only ids older than this one (the previous page's last id). */
  before?: string | undefined;
  limit: number;
}

/**
 * The rejection-alert rate limit, kept in the store so that cluster workers
 * share it and a restart does not reopen every window: per reason and
 * destination, the first rejection is sent, later ones within windowMs are
 * only counted, and whoever closes the window (any process) sends the count.
 */
export interface Admission {
  destination: string;
  /** Rejections folded into the window that just expired, carried by this alert. */
  folded: number;
}

/** A closed rejection-alert window that folded rejections: what its summary alert says. */
export interface FoldedWindow {
  reason: string;
  folded: number;
  windowMs: number;
  lastStatus: number | null;
  lastPartner: string | null;
  lastRemoteAddress: string | null;
  lastDescription: string | null;
}

/** A group with members that no message carries yet. */
export interface PendingGroup {
  destination: string;
  groupKey: string;
  /** When its oldest waiting member arrived (ms epoch). */
  firstMs: number;
  members: number;
  /** When its last message was created, if ever. */
  lastFlushMs: number | undefined;
}

/** What a group message is built from: the first members in full, and counts of all by payout status. */
export interface GroupContent {
  listed: RelayEvent[];
  total: number;
  counts: Record<string, number>;
  /** Every rule that routed a member here. */
  rules: string[];
  /** Control numbers (or event ids) of the members after the listed ones, in arrival order, at most nameLimit. */
  moreNames: string[];
}

export interface GroupFlush {
  destination: string;
  groupKey: string;
  now: number;
  /** How many members the message lists in full. */
  listLimit: number;
  /** How many of the members after those it names by control number only. */
  nameLimit: number;
  /** Judged again under the group's lock: another process may just have flushed it. */
  isDue: (group: { firstMs: number; lastFlushMs: number | undefined }) => boolean;
  /** The message and its one delivery, from what the group holds now. */
  build: (content: GroupContent) => { event: GroupEvent; delivery: NewDelivery };
}

export interface FlushedGroup {
  messageEventId: string;
  deliveryId: string;
  members: number;
}

/** A destination an event did not go to because a silence was active when it was stored. */
export interface SilencedRoute {
  destination: string;
  silenceId: string;
  rules: string[];
}

/** An event's place in a group: waiting for its window, or carried by a group message (whose delivery it follows). */
export interface GroupMembership {
  destination: string;
  groupKey: string;
  rules: string[];
  joinedAt: string;
  /** The group message's event, once the window closed. */
  messageEventId: string | null;
  deliveryId: string | null;
  /** `waiting` until the message exists, then its delivery's state (`pruned` once retention removed the message). */
  state: 'waiting' | DeliveryState | 'pruned';
}
