import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { SAMPLE_AUTH, SAMPLE_PARTNER, buildCallback } from '../../support/skypay';
import { spawnDaemon, type SpawnedDaemon } from '../../support/spawn';

/**
 * store.synchronous FULL: a 1000 goes out only once the commit holding the callback is on disk. skyrelay runs
 * SQLite with synchronous=NORMAL and flushes the -wal itself off the event loop (src/store/sqlite/wal-sync.ts), so
 * this is checked where it happens, in the system calls: the built daemon runs under strace, and for every
 * callback answered 1000 the trace must show the -wal page holding it written, then an fdatasync of the -wal that
 * began after that write and ended before the answer was written to its socket. The same check on a daemon with
 * store.synchronous NORMAL, which flushes nothing, must find answers without such a flush: the check can fail.
 */
describe('durability of an acknowledgement (store.synchronous FULL, under strace)', function () {
  this.timeout(60_000);
  let daemon: SpawnedDaemon | undefined;
  before(() => {
    const found = spawnSync('strace', ['-V'], { stdio: 'ignore' });
    if (found.error) throw new Error('strace is missing: apt-get install -y strace (CI installs it)');
  });
  afterEach(async () => {
    if (daemon) await killTraced(daemon);
    daemon = undefined;
  });

  async function traceCallbacks(synchronous: 'FULL' | 'NORMAL', count: number): Promise<Trace> {
    const dir = makeTempDir();
    const traceFile = path.join(dir, 'strace.txt');
    const strace = ['strace', '-f', '-ttt', '-T', '-yy', '-s', '100000', '-o', traceFile];
    daemon = await spawnDaemon(
      {
        server: { host: '127.0.0.1', port: 0 },
        store: { path: path.join(dir, 'skyrelay.db'), synchronous },
        skypay: { partners: [{ userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH] }] },
      },
      {},
      [...strace, '-e', 'trace=pwrite64,fdatasync,read,write,writev', '-e', 'signal=none'],
    );
    const bodies = Array.from({ length: count }, () => buildCallback());
    // A few at a time, each on a connection of its own: a socket's answer then belongs to the one request read on it.
    const acked: string[] = [];
    for (let i = 0; i < bodies.length; i += 5) {
      const answers = await Promise.all(bodies.slice(i, i + 5).map((b) => post(daemon as SpawnedDaemon, b)));
      answers.forEach((answer, j) => {
        if (answer.includes('"responseCode":"1000"')) acked.push(String(bodies[i + j]?.['controlNumber']));
      });
    }
    await killTraced(daemon);
    daemon = undefined;
    await waitUntil(() => fs.existsSync(traceFile), 'the trace to be written');
    return { acked, calls: parseTrace(fs.readFileSync(traceFile, 'utf8')) };
  }

  it('answers 1000 only after an fdatasync of the -wal that began after the callback was written to it', async () => {
    const { acked, calls } = await traceCallbacks('FULL', 20);
    expect(acked).to.have.length(20);
    const unflushed = acked.filter((cn) => !flushedBeforeAnswer(calls, cn));
    expect(unflushed, 'callbacks answered 1000 before the -wal holding them was flushed').to.deep.equal([]);
  });

  it('finds answers without such a flush on a daemon that does not flush (store.synchronous NORMAL)', async () => {
    const { acked, calls } = await traceCallbacks('NORMAL', 20);
    expect(acked).to.have.length(20);
    const unflushed = acked.filter((cn) => !flushedBeforeAnswer(calls, cn));
    expect(unflushed.length, 'answers the check finds unflushed').to.be.greaterThan(0);
  });
});

/**
 * SIGKILL for the traced daemon, not for strace: killed itself, strace loses the tail of its buffered trace and
 * leaves the daemon running with no parent. Once its tracee is gone, strace writes the rest and exits.
 */
async function killTraced(daemon: SpawnedDaemon): Promise<void> {
  const pid = daemon.child.pid;
  const tracee = pid === undefined ? '' : spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim();
  for (const child of tracee.split('\n').filter(Boolean)) process.kill(Number(child), 'SIGKILL');
  if (!tracee) daemon.child.kill('SIGKILL');
  await daemon.exited;
}

interface Call {
  name: string;
  /** The fd's path as strace -y shows it: a file, or TCP:[local->remote]. */
  target: string;
  start: number;
  end: number;
  text: string;
}

interface Trace {
  acked: string[];
  calls: Call[];
}

function post(daemon: SpawnedDaemon, body: Record<string, unknown>): Promise<string> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      daemon.callbackUrl,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('utf8')));
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** strace -f -ttt -T -y lines, an interrupted call's two halves joined: name, fd target, start and end, its text. */
function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, { name: string; start: number; head: string }>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, pid = '', at = '0', rest = ''] = m;
    const start = Number(at);
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const begun = open.get(pid);
      open.delete(pid);
      if (!begun) continue;
      calls.push(finish(begun.name, begun.head + (resumed[2] ?? ''), begun.start));
      continue;
    }
    const call = /^(\w+)\((.*)$/.exec(rest);
    if (!call) continue;
    if (rest.endsWith('<unfinished ...>')) {
      open.set(pid, { name: call[1] ?? '', start, head: rest });
      continue;
    }
    calls.push(finish(call[1] ?? '', rest, start));
  }
  return calls;
}

function finish(name: string, text: string, start: number): Call {
  const duration = Number(/<(\d+\.\d+)>\s*$/.exec(text)?.[1] ?? 0);
  // A socket reads TCP:[local->remote] (its "->" holds a ">"); a file its path.
  const target = /^\w+\(\d+<(TCP:\[[^\]]*\]|[^>]*)>/.exec(text)?.[1] ?? '';
  return { name, target, start, end: start + duration, text };
}

/**
 * For control number `cn`: the first write of the -wal that holds it, the socket its request was read from and the
 * 1000 written back on that socket after; true when an fdatasync of the -wal began after the first and ended before
 * the last.
 */
function flushedBeforeAnswer(calls: readonly Call[], cn: string): boolean {
  const isWal = (c: Call) => c.target.endsWith('-wal');
  const written = calls.find((c) => c.name === 'pwrite64' && isWal(c) && c.text.includes(cn));
  const request = calls.find((c) => c.name === 'read' && c.target.startsWith('TCP:') && c.text.includes(cn));
  if (!written || !request) throw new Error(`the trace shows no ${written ? 'request' : '-wal write'} for ${cn}`);
  const answer = calls.find(
    (c) =>
      (c.name === 'write' || c.name === 'writev') &&
      c.target === request.target &&
      c.start > request.start &&
      c.text.includes('responseCode\\":\\"1000'),
  );
  if (!answer) throw new Error(`the trace shows no 1000 written back for ${cn}`);
  return calls.some((c) => c.name === 'fdatasync' && isWal(c) && c.start >= written.start && c.end <= answer.start);
}
