import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { makeTempDir } from '../../support/daemon';
import { openRaw, postHead, type RawConnection } from '../../support/raw-socket';
import { buildCallback, postCallback } from '../../support/skypay';
import { spawnDaemon, type SpawnedDaemon } from '../../support/spawn';
import { note } from '../../support/notes';

const SOCKETS = 500;
const DECLARED = 1_000_000;
/** "Most of" the declared body: sent, then nothing more. */
const SENT = 900_000;

function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

describe('500 connections each sending most of 1 MB and stalling (built daemon, default limits)', function () {
  this.timeout(30_000);
  let dir: string;
  let daemon: SpawnedDaemon;
  const sockets: RawConnection[] = [];

  before(async () => {
    dir = makeTempDir('skyrelay-memory');
    daemon = await spawnDaemon({
      server: { host: '127.0.0.1', port: 0 },
      store: { path: path.join(dir, 'skyrelay.db') },
    });
  });
  after(async () => {
    for (const c of sockets) c.socket.destroy();
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the daemon under 300 MiB and acknowledges a normal callback during and after', async () => {
    const pid = daemon.child.pid as number;
    const port = Number(new URL(daemon.baseUrl).port);
    const before = memoryOf(pid);
    const chunk = Buffer.alloc(SENT, 'x');
    const head = postHead('/callbacks/skypay', DECLARED);
    const written: Promise<void>[] = [];
    for (let i = 0; i < SOCKETS; i++) {
      const c = await openRaw(port, head);
      sockets.push(c);
      // Refused ones are closed by the daemon before taking it all; either way this settles.
      written.push(
        new Promise((resolve) => {
          c.socket.write(chunk, () => resolve());
          c.socket.once('close', () => resolve());
        }),
      );
    }
    await Promise.all(written);
    const during = await postCallback(daemon.callbackUrl, buildCallback());
    const stalled = sockets.filter((c) => !c.socket.destroyed).length;
    const peak = memoryOf(pid);
    for (const c of sockets) c.socket.destroy();
    const after = await postCallback(daemon.callbackUrl, buildCallback());
    note(
      `VmRSS ${before.rssMiB.toFixed(0)} MiB before, ${peak.rssMiB.toFixed(0)} MiB ` +
        `with ${stalled} of ${SOCKETS} ` +
        `connections still open; VmHWM ${memoryOf(pid).hwmMiB.toFixed(0)} MiB`,
    );
    expect(during.json?.['responseCode']).to.equal('1000');
    expect(after.json?.['responseCode']).to.equal('1000');
    expect(memoryOf(pid).hwmMiB).to.be.below(300);
  });
});
