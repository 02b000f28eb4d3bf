import { buildCallback } from './skypay';

/**
 * A client that keeps sending fresh callbacks at a steady pace, the way
 * SkyPay does, to whatever URL `target()` names at that moment (a restarted
 * daemon listens on a new port). It remembers exactly which callbacks were
 * acknowledged with 1000: those are the ones skyrelay has promised to keep.
 */
export interface Traffic {
  /** controlNumber → the body that got a 1000. */
  readonly acked: ReadonlyMap<string, Record<string, unknown>>;
  /** Every answer that was not a 1000, by status (or 'error' for no answer at all). */
  readonly refused: ReadonlyMap<string, number>;
  /** Resolves once the next `n` callbacks (from now) have been acknowledged. */
  waitForAcks(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function startTraffic(
  target: () => string | undefined,
  options: {
    senders?: number;
    pauseMs?: number;
    /** Told of every answer as it arrives: its status ('1000' for an acknowledgement, else as in `refused`). */
    onAnswer?: (body: Record<string, unknown>, answer: string, sentAt: number) => void;
  } = {},
): Traffic {
  const acked = new Map<string, Record<string, unknown>>();
  const refused = new Map<string, number>();
  const waiters = new Set<() => void>();
  let running = true;
  const count = (key: string): void => {
    refused.set(key, (refused.get(key) ?? 0) + 1);
  };

  const sendOne = async (url: string): Promise<void> => {
    const body = buildCallback({ payType: String(1 + Math.floor(Math.random() * 6)) });
    const sentAt = Date.now();
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5_000),
      });
      const reply = (await res.json().catch(() => undefined)) as { responseCode?: string } | undefined;
      if (res.status === 200 && reply?.responseCode === '1000') {
        acked.set(String(body['controlNumber']), body);
        options.onAnswer?.(body, '1000', sentAt);
        for (const wake of [...waiters]) wake();
      } else {
        count(String(res.status));
        options.onAnswer?.(body, String(res.status), sentAt);
      }
    } catch {
      count('error');
      options.onAnswer?.(body, 'error', sentAt);
    }
  };

  const loop = async (): Promise<void> => {
    while (running) {
      const url = target();
      if (url !== undefined) await sendOne(url);
      await new Promise((r) => setTimeout(r, options.pauseMs ?? 5));
    }
  };
  const loops = Array.from({ length: options.senders ?? 4 }, () => loop());

  return {
    acked,
    refused,
    waitForAcks(n, timeoutMs = 10_000) {
      const goal = acked.size + n;
      return new Promise((resolve, reject) => {
        const wake = (): void => {
          if (acked.size < goal) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(
              `traffic: waited ${timeoutMs} ms for ${n} more acknowledgements; rejections so far ${JSON.stringify([...refused])}`,
            ),
          );
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
