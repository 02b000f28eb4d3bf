import { expect } from 'chai';
import path from 'node:path';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { note } from '../../support/notes';
import { startReceiver, type Receiver } from '../../support/receiver';
import { countNamed, readGroupMessages, sendFailuresPaced } from '../../support/slack-groups';
import { spawnDaemon, type SpawnedDaemon } from '../../support/spawn';
import { ALL, withStore } from '../../support/store';

describe('grouping across a SIGKILL (built daemon)', function () {
  this.timeout(60_000);
  let receiver: Receiver | undefined;
  const running: SpawnedDaemon[] = [];

  afterEach(async () => {
    for (const d of running) {
      if (d.child.exitCode === null && d.child.signalCode === null) {
        d.child.kill('SIGTERM');
        await d.exited;
      }
    }
    running.length = 0;
    await receiver?.close();
  });

  it('names every acknowledged control number in exactly one Slack group message, across SIGKILL and restart', async () => {
    receiver = await startReceiver();
    const dbPath = path.join(makeTempDir(), 'grouping-crash.db');
    const config = {
      server: { host: '127.0.0.1', port: 0 },
      store: { path: dbPath },
      destinations: {
        'ops-slack': {
          type: 'slack',
          url: `${receiver.url}/services/T1/B1/crashsecret1`,
          group: { waitMs: 2000, intervalMs: 5000 },
        },
      },
      rules: [{ name: 'problems', match: { payType: 'failure' }, to: ['ops-slack'] }],
      // A lease of timeoutMs * 2 + 5 s: a message the killed process was sending is taken over within 7 s.
      delivery: { maxAttempts: 20, initialBackoffMs: 100, maxBackoffMs: 1000, timeoutMs: 1000, pollIntervalMs: 100 },
    };
    let current: SpawnedDaemon | undefined = await spawnDaemon(config);
    running.push(current);
    const sending = sendFailuresPaced(() => current?.callbackUrl, 300, 10_000, 'SKGRK');

    await new Promise((r) => setTimeout(r, 4_500));
    const killed: SpawnedDaemon = current;
    current = undefined;
    killed.child.kill('SIGKILL');
    expect(await killed.exited).to.equal('SIGKILL');
    const second = await spawnDaemon(config);
    running.push(second);
    current = second;

    const { acked, sent } = await sending;
    const pattern = /SKGRK\d{10}/g;
    await waitUntil(
      () => {
        const named = countNamed(readGroupMessages(receiver?.requests ?? [], pattern));
        return acked.every((c) => named.has(c));
      },
      'every acknowledged control number in a Slack message',
      20_000,
    );
    // Let a last message (callbacks stored but not acknowledged when the kill came) go out before counting.
    await withStore(dbPath, async (store) => {
      await waitUntil(async () => {
        const open = await store.listDeliveries({ state: 'pending', limit: ALL });
        const inflight = await store.listDeliveries({ state: 'inflight', limit: ALL });
        return open.length + inflight.length === 0;
      }, 'the outbox to drain');
    });
    const messages = readGroupMessages(receiver.requests, pattern);
    const named = countNamed(messages);
    const twice = [...named].filter(([, n]) => n > 1).map(([c]) => c);
    expect(twice, 'no control number in two messages').to.deep.equal([]);
    for (const c of acked) expect(named.get(c), c).to.equal(1);
    expect(messages.size, 'a handful of messages').to.be.within(2, 8);
    const resends = receiver.requests.length - messages.size;
    note(
      `sent ${sent}, acknowledged ${acked.length}, ${messages.size} messages (${[...messages.values()].map((m) => m.length).join(', ')} names); same message resent after the kill: ${resends}`,
    );
  });
});
