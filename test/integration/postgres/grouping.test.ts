import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { note } from '../../support/notes';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { startReceiver, type Receiver } from '../../support/receiver';
import { countNamed, readGroupMessages, sendFailuresPaced } from '../../support/slack-groups';

describePostgres('grouping on PostgreSQL, two instances on one database (several hosts)', function () {
  this.timeout(40_000);
  let db: TestDatabase | undefined;
  let receiver: Receiver | undefined;
  const daemons: TestDaemon[] = [];

  afterEach(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    daemons.length = 0;
    await receiver?.close();
    await db?.drop();
  });

  it('makes one message per group window whichever instance took the callbacks, at most one per second', async () => {
    db = await createTestDatabase();
    receiver = await startReceiver();
    const config = {
      store: { url: db.url },
      destinations: {
        'ops-slack': {
          type: 'slack',
          url: `${receiver.url}/services/T1/B1/pgsecret01`,
          group: { waitMs: 1500, intervalMs: 3000 },
        },
      },
      rules: [{ name: 'problems', match: { payType: 'failure' }, to: ['ops-slack'] }],
      delivery: { initialBackoffMs: 100, maxBackoffMs: 1000, timeoutMs: 2000, pollIntervalMs: 100 },
    };
    daemons.push(await startTestDaemon(config), await startTestDaemon(config));
    let turn = 0;
    const urls = daemons.map((d) => d.callbackUrl);
    const { acked } = await sendFailuresPaced(() => urls[turn++ % urls.length], 120, 5_000, 'SKGRP');
    expect(acked).to.have.length(120);
    const pattern = /SKGRP\d{10}/g;
    await waitUntil(
      () => countNamed(readGroupMessages(receiver?.requests ?? [], pattern)).size === 120,
      'every control number in a Slack message',
      15_000,
    );
    const requests = receiver.requests;
    const named = countNamed(readGroupMessages(requests, pattern));
    expect(
      [...named.values()].every((n) => n === 1),
      'each named once',
    ).to.equal(true);
    // Windows at 1.5 s, 4.5 s and 7.5 s after the first callback cover 5 s of traffic: 2 or 3 messages, never one
    // per instance per window.
    expect(requests.length).to.be.within(2, 3);
    const gaps = requests.slice(1).map((r, i) => r.receivedAt - (requests[i]?.receivedAt ?? 0));
    expect(Math.min(...gaps)).to.be.at.least(950);
    note(`120 failures through 2 instances → ${requests.length} messages, gaps ${gaps.join(', ')} ms`);
  });
});
