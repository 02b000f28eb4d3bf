import { replies, startReceiver, type Receiver } from './receiver';
import { buildCallback, dealTimeFromNow, nextControlNumber, postCallback } from './skypay';
import { ALL, withStore } from './store';

/**
 * The proof of ordered delivery under load, shared by its runs (pm2 cluster on SQLite, daemons on PostgreSQL):
 * payouts' lifecycles sent as SkyPay sends them, with duplicates; a consumer that fails a share of attempts at
 * random; and the check of what it received against the order skyrelay stored each payout's events in.
 */

/** Lifecycles of 3 and 4 statuses, in SkyPay's order: upload, amendments, then paid. */
const LIFECYCLES: readonly (readonly string[])[] = [
  ['1', '5', '2'],
  ['1', '5', '6', '2'],
];

/** One attempt the consumer saw: which delivery (webhook-id), which payout, and whether it took it (2xx). */
export interface Seen {
  deliveryId: string;
  controlNumber: string;
  accepted: boolean;
  at: number;
}

export interface FlakyConsumer {
  receiver: Receiver;
  seen: Seen[];
}

/** A webhook consumer answering 503 to `failShare` of attempts at random, 200 to the rest; it notes each answer. */
export async function startFlakyConsumer(failShare: number): Promise<FlakyConsumer> {
  const receiver = await startReceiver();
  const seen: Seen[] = [];
  receiver.respondWith(
    replies.choose((r) => {
      const accepted = Math.random() >= failShare;
      const data = (r.json as { data?: { controlNumber?: unknown } } | undefined)?.data;
      seen.push({
        deliveryId: String(r.headers['webhook-id']),
        controlNumber: String(data?.controlNumber ?? ''),
        accepted,
        at: r.receivedAt,
      });
      return accepted ? replies.ok() : replies.unavailable();
    }),
  );
  return { receiver, seen };
}

export interface SentPayouts {
  /** Control number → its statuses (payTypes) in the order sent, each acknowledged with 1000. */
  lifecycles: Map<string, string[]>;
  /** Callbacks sent a second time (a duplicate SkyPay might send): acknowledged, stored once. */
  duplicates: number;
}

/**
 * Sends `payouts` lifecycles, `concurrency` payouts at a time: each payout's statuses one after the other (each
 * acknowledged before the next, as SkyPay sends them), every callback to the next of `targets()` in turn (so one
 * payout's statuses land on different processes), a `duplicateShare` of them sent twice. A callback that gets no
 * 1000 (a process killed under it) is sent again to the next target. `onProgress` hears each payout finished.
 */
export async function sendPayouts(
  targets: () => readonly string[],
  options: { payouts: number; concurrency: number; duplicateShare: number; onProgress?: (done: number) => void },
): Promise<SentPayouts> {
  const lifecycles = new Map<string, string[]>();
  let duplicates = 0;
  let turn = 0;
  let next = 0;
  let done = 0;
  const post = async (body: Record<string, unknown>): Promise<void> => {
    for (let tries = 1; ; tries++) {
      const urls = targets();
      const url = urls[turn++ % urls.length] as string;
      const res = await postCallback(url, body).catch((err: unknown) => ({ json: undefined, text: String(err) }));
      if (res.json?.['responseCode'] === '1000') return;
      if (tries >= 20) throw new Error(`callback ${JSON.stringify(body)} not acknowledged: ${res.text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const worker = async (): Promise<void> => {
    while (next < options.payouts) {
      const n = next++;
      const cn = nextControlNumber('ORDPF');
      const payTypes = LIFECYCLES[n % LIFECYCLES.length] as readonly string[];
      lifecycles.set(cn, []);
      let offset = -120_000;
      for (const payType of payTypes) {
        offset += 1_000;
        const body = buildCallback({ controlNumber: cn, payType, dealTime: dealTimeFromNow(offset) });
        await post(body);
        lifecycles.get(cn)?.push(payType);
        if (Math.random() < options.duplicateShare) {
          await post(body);
          duplicates += 1;
        }
      }
      options.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { lifecycles, duplicates };
}

/** What the consumer received, judged against the store. */
export interface OrderVerdict {
  /** Deliveries to the destination, all states. */
  deliveries: number;
  delivered: number;
  /**
   * Attempts that reached the consumer out of the stored order: an event of a payout sent while an earlier one of
   * it had not been taken yet, or after a later one had been.
   */
  inversions: string[];
  /** Stored events the consumer never took (no 2xx). */
  missing: string[];
  /** Payouts whose stored order is not the order their statuses were sent (acknowledged one after the other). */
  misnumbered: string[];
  /** Attempts answered 503. */
  refused: number;
}

/** Reads every delivery to `destination` with its place in its payout's line, and judges what the consumer saw. */
export async function judgeOrder(
  at: string | { url: string },
  destination: string,
  consumer: FlakyConsumer,
  sent: SentPayouts,
): Promise<OrderVerdict> {
  const [stored, events] = await withStore(at, (store) =>
    Promise.all([store.listDeliveries({ destination, limit: ALL }), store.listEvents({ type: 'payout', limit: ALL })]),
  );
  const seqOf = new Map(stored.map((d) => [d.id, d.payoutSeq]));
  const payTypeOf = new Map(events.map((e) => [e.id, String(e.payType)]));
  const verdict: OrderVerdict = {
    deliveries: stored.length,
    delivered: stored.filter((d) => d.state === 'delivered').length,
    inversions: [],
    missing: [],
    misnumbered: [],
    refused: consumer.seen.filter((s) => !s.accepted).length,
  };
  // Per payout: the places the consumer took, and the highest one.
  const taken = new Map<string, Set<number>>();
  for (const s of consumer.seen) {
    const seq = seqOf.get(s.deliveryId);
    if (seq === undefined || seq === null) {
      verdict.inversions.push(`${s.deliveryId}: a delivery the store has no place in line for`);
      continue;
    }
    const mine = taken.get(s.controlNumber) ?? new Set<number>();
    const earlierOpen = Array.from({ length: seq - 1 }, (_, i) => i + 1).filter((k) => !mine.has(k));
    const later = [...mine].filter((k) => k > seq);
    if (earlierOpen.length > 0 || later.length > 0) {
      verdict.inversions.push(
        `${s.controlNumber} #${seq} (${s.deliveryId}) sent with #${earlierOpen.join(',')} not taken yet` +
          (later.length > 0 ? ` and #${later.join(',')} taken already` : ''),
      );
    }
    if (s.accepted) mine.add(seq);
    taken.set(s.controlNumber, mine);
  }
  const acceptedIds = new Set(consumer.seen.filter((s) => s.accepted).map((s) => s.deliveryId));
  verdict.missing = stored.filter((d) => !acceptedIds.has(d.id)).map((d) => `${d.controlNumber} ${d.id} ${d.state}`);
  const byPayout = new Map<string, { seq: number; payType: string }[]>();
  for (const d of stored) {
    const list = byPayout.get(String(d.controlNumber)) ?? [];
    list.push({ seq: seqOf.get(d.id) ?? 0, payType: String(payTypeOf.get(d.eventId)) });
    byPayout.set(String(d.controlNumber), list);
  }
  for (const [cn, payTypes] of sent.lifecycles) {
    const inLine = (byPayout.get(cn) ?? []).sort((a, b) => a.seq - b.seq).map((e) => e.payType);
    if (inLine.join() !== payTypes.join())
      verdict.misnumbered.push(`${cn}: sent ${payTypes.join()}, stored ${inLine.join()}`);
  }
  return verdict;
}
