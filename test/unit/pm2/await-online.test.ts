import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { judgeLaunch, readLogTail, type OnlineSince, type Pm2Process } from '../../../src/pm2/await-online';

function proc(pm_id: number, pid: number, status: string, extra: Partial<Pm2Process['pm2_env']> = {}): Pm2Process {
  return { pm_id, pid, name: 'skyrelay', pm2_env: { status, ...extra } };
}

describe('pm2/await-online: judgeLaunch', () => {
  const none: OnlineSince = new Map();

  it('is online only once every instance has stayed online, same pid, for the settle time', () => {
    const list = [proc(0, 100, 'online'), proc(1, 101, 'online')];
    const first = judgeLaunch(list, 'skyrelay', 1_000, 1_000, none);
    expect(first.kind).to.equal('waiting');
    if (first.kind !== 'waiting') return;
    expect(judgeLaunch(list, 'skyrelay', 1_999, 1_000, first.onlineSince).kind).to.equal('waiting');
    expect(judgeLaunch(list, 'skyrelay', 2_000, 1_000, first.onlineSince)).to.deep.equal({
      kind: 'online',
      instances: 2,
    });
  });

  it('starts the wait again for an instance whose pid changed (pm2 restarted it)', () => {
    const first = judgeLaunch([proc(0, 100, 'online')], 'skyrelay', 0, 1_000, none);
    if (first.kind !== 'waiting') throw new Error('expected waiting');
    const restarted = judgeLaunch([proc(0, 200, 'online')], 'skyrelay', 1_500, 1_000, first.onlineSince);
    expect(restarted.kind).to.equal('waiting');
    if (restarted.kind !== 'waiting') return;
    expect(restarted.onlineSince.get(0)).to.deep.equal({ pid: 200, sinceMs: 1_500 });
  });

  it('keeps waiting while an instance is launching (before its ready signal) or being restarted', () => {
    const state = judgeLaunch(
      [proc(0, 100, 'online'), proc(1, 101, 'launching'), proc(2, 0, 'waiting restart')],
      'skyrelay',
      10_000,
      1_000,
      new Map([[0, { pid: 100, sinceMs: 0 }]]),
    );
    expect(state.kind).to.equal('waiting');
    expect(judgeLaunch([], 'skyrelay', 10_000, 1_000, none).kind).to.equal('waiting');
  });

  it('fails at once on a stopped instance, saying when its exit code is the invalid configuration one', () => {
    expect(judgeLaunch([proc(0, 0, 'stopped', { exit_code: 78 })], 'skyrelay', 0, 1_000, none)).to.deep.equal({
      kind: 'failed',
      reason: 'skyrelay:0 stopped (exit code 78: the configuration is invalid)',
    });
    expect(judgeLaunch([proc(3, 0, 'stopped', { exit_code: 2 })], 'skyrelay', 0, 1_000, none)).to.deep.equal({
      kind: 'failed',
      reason: 'skyrelay:3 stopped (exit code 2)',
    });
  });

  it('fails on an errored instance (pm2 gave up restarting it), whatever the others do', () => {
    const state = judgeLaunch([proc(0, 100, 'online'), proc(1, 0, 'errored')], 'skyrelay', 0, 0, none);
    expect(state).to.deep.equal({ kind: 'failed', reason: 'skyrelay:1 errored: pm2 stopped restarting it' });
  });

  it("looks only at this app's processes", () => {
    const other = { ...proc(5, 0, 'errored'), name: 'another-app' };
    const state = judgeLaunch(
      [other, proc(0, 100, 'online')],
      'skyrelay',
      5_000,
      1_000,
      new Map([[0, { pid: 100, sinceMs: 0 }]]),
    );
    expect(state).to.deep.equal({ kind: 'online', instances: 1 });
  });
});

describe('pm2/await-online: readLogTail', () => {
  it('gives the last lines of the log, and nothing for a file that is not there', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skyrelay-tail-'));
    try {
      const file = path.join(dir, 'err.log');
      fs.writeFileSync(file, `${Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n')}\n`);
      expect(readLogTail(file, 3)).to.equal('line 47\nline 48\nline 49');
      expect(readLogTail(path.join(dir, 'missing.log'), 3)).to.equal('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
