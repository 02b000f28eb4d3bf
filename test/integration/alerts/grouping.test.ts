import { expect } from 'chai';
import { isGroupEvent } from '../../../src/event';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { note } from '../../support/notes';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, nextControlNumber, postCallback, SAMPLE_PARTNER } from '../../support/skypay';
import { runCli } from '../cli/run-cli';
import { countNamed, readGroupMessages, sendFailuresPaced } from '../../support/slack-groups';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';

const ADMIN_TOKEN = 'admin-token-for-grouping-tests';
const FAST_RETRIES = {
  maxAttempts: 5,
  initialBackoffMs: 100,
  maxBackoffMs: 10_000,
  timeoutMs: 2_000,
  pollIntervalMs: 100,
};

describe('grouping and Slack rate limit (real daemon, real receivers)', function () {
  this.timeout(30_000);
  let receiver: Receiver | undefined;
  let smtp: SmtpServerHandle | undefined;
  let t: TestDaemon | undefined;

  afterEach(async () => {
    await t?.stop();
    await receiver?.close();
    await smtp?.close();
    t = undefined;
    receiver = undefined;
    smtp = undefined;
  });

  it('turns 300 failures in 10 s into a handful of Slack messages naming each once, at most one per second', async () => {
    receiver = await startReceiver();
    t = await startTestDaemon({
      destinations: {
        'ops-slack': {
          type: 'slack',
          url: `${receiver.url}/services/T1/B1/groupsecret1`,
          group: { waitMs: 2000, intervalMs: 5000 },
        },
      },
      rules: [{ name: 'problems', match: { payType: 'failure' }, to: ['ops-slack'] }],
      delivery: FAST_RETRIES,
    });
    const url = t.callbackUrl;
    const { acked } = await sendFailuresPaced(() => url, 300, 10_000, 'SKGRA');
    expect(acked).to.have.length(300);
    const pattern = /SKGRA\d{10}/g;
    await waitUntil(
      () => countNamed(readGroupMessages(receiver?.requests ?? [], pattern)).size === 300,
      'every control number in a Slack message',
      10_000,
    );
    const requests = receiver.requests;
    const messages = readGroupMessages(requests, pattern);
    const named = countNamed(messages);
    expect([...named.keys()].sort()).to.deep.equal([...acked].sort());
    expect(
      [...named.values()].every((n) => n === 1),
      'each control number named once',
    ).to.equal(true);
    expect(requests.length, 'a handful of messages, not 300').to.be.within(2, 6);
    const gaps = requests.slice(1).map((r, i) => r.receivedAt - (requests[i]?.receivedAt ?? 0));
    // Sends start at least 1000 ms apart; arrivals may differ by a few ms of network and scheduling.
    expect(Math.min(...gaps), 'at most one message per second').to.be.at.least(950);
    note(
      `300 failures → ${requests.length} Slack messages of ${[...messages.values()].map((m) => m.length).join(', ')} members; gaps ${gaps.join(', ')} ms`,
    );

    // Each member records the message that carried it, and follows its delivery.
    const member = (await t.daemon.store.findEventsByControlNumber(acked[150] ?? ''))[0];
    await waitUntil(
      async () => (await t?.daemon.store.getEvent(member?.event.id ?? ''))?.groups[0]?.state === 'delivered',
      'member delivered',
    );
    const membership = (await t.daemon.store.getEvent(member?.event.id ?? ''))?.groups[0];
    expect(membership).to.deep.include({ destination: 'ops-slack', state: 'delivered' });
    const message = await t.daemon.store.getEvent(membership?.messageEventId ?? '');
    expect(message && isGroupEvent(message.event)).to.equal(true);
    expect(message?.deliveries[0]?.id).to.equal(membership?.deliveryId);
  });

  it('groups email too: one mail over real SMTP listing every failure of the group', async () => {
    smtp = await startSmtpServer();
    t = await startTestDaemon({
      destinations: {
        'ops-email': {
          type: 'email',
          transport: smtp.url,
          from: 'skyrelay@example.com',
          to: ['ops@example.com'],
          group: { waitMs: 700, intervalMs: 5000 },
        },
      },
      rules: [{ name: 'problems', match: { payType: 'failure' }, to: ['ops-email'] }],
      delivery: FAST_RETRIES,
      admin: { token: ADMIN_TOKEN },
    });
    const controls = Array.from({ length: 8 }, () => nextControlNumber('SKGRE'));
    for (const controlNumber of controls) {
      const answer = await postCallback(
        t.callbackUrl,
        buildCallback({ payType: '4', controlNumber, failDescription: 'no route' }),
      );
      expect(answer.json?.['responseCode']).to.equal('1000');
    }
    const [mail] = await smtp.waitFor(1, 10_000);
    expect(mail?.parsed.subject).to.equal(
      `[skyrelay] 8 payout events: 8 failure (payType failure · partner ${SAMPLE_PARTNER})`,
    );
    for (const c of controls) expect(mail?.parsed.text).to.include(`${c} | ${SAMPLE_PARTNER} | failure |`);
    expect(mail?.parsed.html).to.include('<th align="left"');
    await waitUntil(async () => {
      const detail = (await t?.daemon.store.findEventsByControlNumber(controls[0] ?? ''))?.[0];
      return detail?.groups[0]?.state === 'delivered';
    }, 'the member to follow its delivered message');
    // Nothing more: one group, one mail.
    expect(smtp.messages).to.have.length(1);

    // The admin event view and `skyrelay show` say which message carried a member, and its delivery's state.
    const member = (await t.daemon.store.findEventsByControlNumber(controls[3] ?? ''))[0];
    const res = await fetch(`${t.baseUrl}/admin/events/${member?.event.id ?? ''}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const view = (await res.json()) as { groups: { destination: string; messageEventId: string; state: string }[] };
    expect(view.groups).to.have.length(1);
    expect(view.groups[0]).to.include({ destination: 'ops-email', state: 'delivered' });
    const shown = await runCli(['show', controls[3] ?? ''], { store: { path: t.dbPath } });
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.include(
      `grouped → ops-email: carried by group message ${view.groups[0]?.messageEventId ?? ''} (delivery`,
    );
    expect(shown.stdout).to.include(': delivered), rules problems');
  });

  it('sends at most one Slack message per second by default (ratePerSecond 1), whatever the backlog', async () => {
    receiver = await startReceiver();
    t = await startTestDaemon({
      destinations: { 'ops-slack': { type: 'slack', url: `${receiver.url}/services/T1/B1/ratesecret2` } },
      rules: [{ name: 'problems', match: { payType: 'failure' }, to: ['ops-slack'] }],
      delivery: FAST_RETRIES,
    });
    await Promise.all(
      Array.from({ length: 4 }, () => postCallback(t?.callbackUrl ?? '', buildCallback({ payType: '4' }))),
    );
    const requests = await receiver.waitFor(4, 10_000);
    const gaps = requests.slice(1).map((r, i) => r.receivedAt - (requests[i]?.receivedAt ?? 0));
    expect(Math.min(...gaps), 'one per second').to.be.at.least(950);
    expect(Math.max(...gaps), 'and no slower than the slot').to.be.below(1_600);
  });

  it('pauses every delivery to a Slack destination for the Retry-After of a 429, then drains', async () => {
    receiver = await startReceiver();
    receiver.respondOnce(replies.rateLimited('2'));
    t = await startTestDaemon({
      destinations: {
        'ops-slack': { type: 'slack', url: `${receiver.url}/services/T1/B1/ratesecret1`, ratePerSecond: 20 },
      },
      rules: [{ name: 'problems', match: { payType: 'failure' }, to: ['ops-slack'] }],
      delivery: FAST_RETRIES,
    });
    for (let i = 0; i < 5; i++) {
      const answer = await postCallback(t.callbackUrl, buildCallback({ payType: '4' }));
      expect(answer.json?.['responseCode']).to.equal('1000');
    }
    const requests = await receiver.waitFor(6, 10_000);
    const [limited, next] = requests;
    const pause = (next?.receivedAt ?? 0) - (limited?.receivedAt ?? 0);
    expect(pause, 'nothing sent during the 2 s Retry-After').to.be.at.least(1_900);
    const rest = requests.slice(1).map((r) => r.receivedAt - (next?.receivedAt ?? 0));
    // Once the pause ends the queue drains at ratePerSecond (20: 50 ms apart), not with each delivery's own backoff.
    expect(Math.max(...rest), 'the queue drains right after the pause').to.be.below(1_500);
    note(`429 Retry-After 2 → next send after ${pause} ms; the other 5 within ${Math.max(...rest)} ms`);
  });
});
