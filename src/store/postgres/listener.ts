import type pg from 'pg';
import { WORK_CHANNEL } from '../locks';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * LISTEN for new work on a connection of its own (a pooled one would be
 * handed to other queries). When that connection drops it is made again,
 * with backoff, for as long as anyone listens; meanwhile the worker's polling
 * finds the work, so a lost notification only delays it.
 */
export class WorkListener {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private stopped = false;

  constructor(
    private readonly connect: () => pg.Client,
    private readonly onError: (err: Error) => void,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.client && !this.retryTimer && !this.stopped) void this.listen();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) void this.disconnect();
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listeners.clear();
    await this.disconnect();
  }

  private async listen(): Promise<void> {
    const client = this.connect();
    this.client = client;
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => undefined);
      if (this.stopped || this.listeners.size === 0) return;
      this.onError(err);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.stopped && this.listeners.size > 0 && !this.client) void this.listen();
      }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('LISTEN connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel !== WORK_CHANNEL) return;
      // Outside node-postgres's message handling: a listener that throws must not break the LISTEN connection.
      for (const listener of [...this.listeners]) setImmediate(listener);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${WORK_CHANNEL}`);
      this.retryMs = FIRST_RETRY_MS;
      // Work may have been written while nobody listened (first start, a reconnect): look once.
      for (const listener of [...this.listeners]) listener();
    } catch (err) {
      fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private disconnect(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    return client ? client.end().catch(() => undefined) : Promise.resolve();
  }
}
