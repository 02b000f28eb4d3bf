import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log';
import { Periodic } from '../../src/periodic';
import { waitUntil } from '../support/wait';

function logger(lines: string[]) {
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return createLogger({ level: 'info', destination });
}

describe('Periodic (background work every interval)', () => {
  it('never overlaps runs, logs a run that throws and runs again at the next interval', async () => {
    const lines: string[] = [];
    let active = 0;
    let most = 0;
    let runs = 0;
    const job = new Periodic({ name: 'test job', intervalMs: 5, logger: logger(lines) }, async () => {
      runs += 1;
      active += 1;
      most = Math.max(most, active);
      await new Promise((resolve) => setTimeout(resolve, 20));
      active -= 1;
      if (runs === 1) throw new Error('first run broke');
    });
    job.start();
    await waitUntil(() => runs >= 3);
    await job.stop();
    expect(most).to.equal(1);
    expect(lines.some((l) => l.includes('"msg":"test job failed; will try again"'))).to.equal(true);
  });

  it('stop() waits for the run in progress, says stopping to it, and a second stop() is the same promise', async () => {
    let release: () => void = () => undefined;
    let sawStopping = false;
    let started = false;
    const job: Periodic = new Periodic({ name: 'slow job', intervalMs: 60_000, logger: logger([]) }, async () => {
      started = true;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      sawStopping = job.stopping;
    });
    job.start();
    await waitUntil(() => started);
    let stopped = false;
    const first = job.stop();
    void first.then(() => (stopped = true));
    expect(job.stop()).to.equal(first);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).to.equal(false);
    release();
    await first;
    expect(sawStopping).to.equal(true);
  });
});
