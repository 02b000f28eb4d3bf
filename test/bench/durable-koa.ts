import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import { createBatcher } from '../../src/store/group-commit';

/**
 * The third baseline: the least a durable acknowledgement costs here. Bare
 * Koa plus a group-commit insert of the same event row skyrelay stores
 * (WAL, synchronous FULL, answered only after the commit), and nothing
 * else: no authentication, validation, routing, outbox or logging. Its
 * rate is the limit skyrelay's ingest is measured against.
 */
function startDurableKoa(dbPath: string): void {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, type TEXT NOT NULL, partner TEXT, control_number TEXT,
    pay_type INTEGER, status TEXT, deal_time TEXT, body TEXT NOT NULL, received_ms INTEGER NOT NULL)`);
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS events_identity ON events (partner, control_number, pay_type, deal_time)');
  const insert = db.prepare(`
    INSERT INTO events (id, source, type, partner, control_number, pay_type, status, deal_time, body, received_ms)
    VALUES (?, 'skypay', 'payout', ?, ?, ?, 'success', ?, ?, ?) ON CONFLICT DO NOTHING`);
  type Row = [string, string, string, number, string, string, number];
  const writeAll = db.transaction((rows: Row[]) => rows.map((r) => void insert.run(...r)));
  const batcher = createBatcher(async (rows: Row[]) => writeAll.immediate(rows), { maxBatch: 256 });

  const app = new Koa();
  app.silent = true;
  app.use(bodyParser({ enableTypes: ['json', 'text'], jsonLimit: '1mb', textLimit: '1mb', strict: true }));
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || ctx.path !== '/callbacks/skypay') {
      ctx.status = 404;
      return;
    }
    const body = ctx.request.body as Record<string, unknown> | undefined;
    if (typeof body !== 'object' || body === null) {
      ctx.status = 400;
      return;
    }
    const text = (key: string): string => (typeof body[key] === 'string' ? body[key] : '');
    await batcher.submit([
      randomUUID(),
      text('userName'),
      text('controlNumber'),
      Number(text('payType')),
      text('dealTime'),
      JSON.stringify(body),
      Date.now(),
    ]);
    ctx.status = 200;
    ctx.type = 'application/json';
    ctx.body = JSON.stringify({
      responseTime: new Date().toISOString(),
      responseCode: '1000',
      responseDescription: 'Success',
    });
  });
  const server = app.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  const stop = (): void => {
    server.close(() => {
      db.close();
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

const dbPath = process.argv[2];
if (dbPath === undefined) throw new Error('durable-koa: pass the database path');
startDurableKoa(dbPath);
