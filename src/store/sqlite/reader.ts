import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { runScript, type Row, type Script, type Statement } from '../sql';
import { PreparedStatements } from './statements';

/**
 * Reads on a thread of their own. SQLite answers a query on the thread that asks, and the store's connection lives on
 * the event loop: a listing that scans a month of history held every callback, health check and delivery meanwhile.
 * Here a worker thread keeps read-only connections to the same file and executes the statements of read scripts; the
 * script itself still runs on the event loop (so no script changes), each statement a message to the thread and its
 * rows one back, and the event loop serves others while SQLite works.
 *
 * Each script reads in one transaction on one of the thread's connections, begun at its first statement and ended
 * after its last: its statements see one snapshot, as on the store's own connection. A read begun after a write
 * committed sees it: a commit is in the -wal and its index before the write resolves, and a new read transaction
 * reads up to the last commit there. Scripts wait for a free connection; statements run one at a time on the thread.
 */

interface ReaderData {
  reader: { path: string; busyTimeoutMs: number };
}

type Request = { id: number; conn: number; statement: Statement } | { id: 0; conn: number; end: true };

type Reply = { id: number; value: unknown } | { id: number; error: { message: string; code?: string } };

/** Connections the thread keeps: scripts reading at once, each in its own snapshot. */
const CONNECTIONS = 3;
/** Per connection: enough for the pages a listing reads again; the OS caches the file for the rest. */
const CACHE_KIB = 8_192;

/** Why the read thread stopped answering: reads go back to the store's own connection. */
export class ReadThreadError extends Error {
  readonly code = 'READ_THREAD_FAILED';
}

export class ReadThread {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly free: number[] = Array.from({ length: CONNECTIONS }, (_, i) => i);
  private readonly queue: ((conn: number) => void)[] = [];
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => this.answer(reply));
    const fail = (why: Error) => {
      this.failure ??= why;
      for (const w of this.waiting.values()) w.reject(this.failure);
      this.waiting.clear();
    };
    worker.on('error', (err) => fail(new ReadThreadError(`read thread failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => fail(new ReadThreadError(`read thread exited (${code})`)));
  }

  /** Starts the thread; undefined where it cannot run (reads stay on the store's connection then). */
  static start(file: string, busyTimeoutMs: number): ReadThread | undefined {
    try {
      const data: ReaderData = { reader: { path: file, busyTimeoutMs } };
      const worker = new Worker(path.join(__dirname, 'reader.js'), { workerData: data });
      // Idle, it keeps nobody alive (see send).
      worker.unref();
      return new ReadThread(worker);
    } catch {
      return undefined;
    }
  }

  /** Set once the thread failed or exited: no read is sent to it any more. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Runs a read script with its statements executed on the thread; `counted` is told of each. */
  async run<R>(script: Script<R>, counted: () => void): Promise<R> {
    const conn = await this.acquire();
    try {
      return await runScript(script, (statement) => {
        counted();
        return this.send(conn, statement);
      });
    } finally {
      // Ends the read transaction; messages keep their order, so the next script on this connection begins anew.
      if (this.failure === undefined) this.worker.postMessage({ id: 0, conn, end: true } satisfies Request);
      this.release(conn);
    }
  }

  async stop(): Promise<void> {
    this.failure ??= new ReadThreadError('read thread stopped');
    await this.worker.terminate().catch(() => undefined);
  }

  private send(conn: number, statement: Statement): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // While a statement is out, the thread keeps the process alive for its answer.
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, conn, statement } satisfies Request);
    });
  }

  private answer(reply: Reply): void {
    const w = this.waiting.get(reply.id);
    if (!w) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    if ('error' in reply) w.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    else w.resolve(withBuffers(reply.value));
  }

  private acquire(): Promise<number> {
    const conn = this.free.pop();
    if (conn !== undefined) return Promise.resolve(conn);
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(conn: number): void {
    const next = this.queue.shift();
    if (next) next(conn);
    else this.free.push(conn);
  }
}

/** Blobs cross between threads as Uint8Array: back to Buffer, as the store's own connection returns them. */
function withBuffers(value: unknown): unknown {
  const fix = (row: Row): Row => {
    for (const [k, v] of Object.entries(row)) {
      if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
    return row;
  };
  if (Array.isArray(value)) return value.map((r: unknown) => (r !== null && typeof r === 'object' ? fix(r as Row) : r));
  return value !== null && typeof value === 'object' ? fix(value as Row) : value;
}

function toBuffers(values: readonly unknown[]): unknown[] {
  return values.map((v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v) : v));
}

/** The thread: opens its connections when first used, runs each statement, ends read transactions when told. */
function serve(file: string, busyTimeoutMs: number): void {
  const connections = new Map<number, { db: Database.Database; statements: PreparedStatements }>();
  const open = (conn: number) => {
    let found = connections.get(conn);
    if (!found) {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.pragma(`cache_size = -${CACHE_KIB}`);
      found = { db, statements: new PreparedStatements(db) };
      connections.set(conn, found);
    }
    return found;
  };
  parentPort?.on('message', (request: Request) => {
    if ('end' in request) {
      const c = connections.get(request.conn);
      if (c?.db.inTransaction) c.db.exec('COMMIT');
      return;
    }
    try {
      const c = open(request.conn);
      // Deferred: the snapshot is taken by the first read, after everything committed before the script began.
      if (!c.db.inTransaction) c.db.exec('BEGIN');
      const s = request.statement;
      const statement: Statement =
        s.op === 'rows'
          ? { ...s, params: toBuffers(s.params), source: { ...s.source, rows: s.source.rows.map(toBuffers) } }
          : { ...s, params: toBuffers(s.params) };
      parentPort?.postMessage({ id: request.id, value: c.statements.execute(statement) } satisfies Reply);
    } catch (err) {
      const e = err as { message?: unknown; code?: unknown };
      parentPort?.postMessage({
        id: request.id,
        error: {
          message: typeof e.message === 'string' ? e.message : String(err),
          ...(typeof e.code === 'string' ? { code: e.code } : {}),
        },
      } satisfies Reply);
    }
  });
}

const data = workerData as Partial<ReaderData> | undefined;
if (!isMainThread && parentPort && data?.reader !== undefined) serve(data.reader.path, data.reader.busyTimeoutMs);
