import type { RecordedRequest } from './receiver';
import { buildCallback, nextControlNumber } from './skypay';

/** The control numbers a Slack group message names, by the message's delivery id (a resend keeps its id). */
export function readGroupMessages(requests: readonly RecordedRequest[], pattern: RegExp): Map<string, string[]> {
  const messages = new Map<string, string[]>();
  for (const request of requests) {
    const blocks = JSON.stringify((request.json as { blocks?: unknown } | undefined)?.blocks ?? []);
    const delivery = /Delivery (dlv_[A-Za-z0-9_-]+)/.exec(blocks)?.[1] ?? `unknown-${messages.size}`;
    messages.set(delivery, blocks.match(pattern) ?? []);
  }
  return messages;
}

/** How many times each control number is named across distinct messages. */
export function countNamed(messages: ReadonlyMap<string, readonly string[]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const names of messages.values()) for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return counts;
}

/**
 * Sends `count` failure callbacks evenly over `durationMs` to whatever `target()` names at each moment (undefined
 * while the daemon is down: that callback is not sent). Resolves with the control numbers answered 1000.
 */
export async function sendFailuresPaced(
  target: () => string | undefined,
  count: number,
  durationMs: number,
  prefix: string,
): Promise<{ acked: string[]; sent: number }> {
  const start = Date.now();
  const acked: string[] = [];
  const sends: Promise<void>[] = [];
  let sent = 0;
  for (let i = 0; i < count; i++) {
    const at = start + (i * durationMs) / count;
    const wait = at - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const url = target();
    if (url === undefined) continue;
    sent += 1;
    const body = buildCallback({
      payType: '4',
      failDescription: `channel down #${i}`,
      controlNumber: nextControlNumber(prefix),
    });
    sends.push(
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5_000),
      })
        .then(async (res) => {
          const reply = (await res.json()) as { responseCode?: string };
          if (res.status === 200 && reply.responseCode === '1000') acked.push(String(body['controlNumber']));
        })
        .catch(() => undefined),
    );
  }
  await Promise.all(sends);
  return { acked, sent };
}
