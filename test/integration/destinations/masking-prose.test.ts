import fs from 'node:fs';
import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import {
  SAMPLE_AUTH,
  SAMPLE_ENCRYPT_KEY,
  SAMPLE_PARTNER,
  buildCallback,
  dealTimeFromNow,
  decryptReply,
  nextControlNumber,
  postCallback,
} from '../../support/skypay';
import { SkyPaySimulator } from '../../support/skypay-simulator';
import { startSmtpServer, type ReceivedMail, type SmtpServerHandle } from '../../support/smtp';
import { runCli } from '../cli/run-cli';

const SECRET = `whsec_${Buffer.from('masking-prose-signing-secret-01').toString('base64')}`;
const MINUTE = 60_000;
/** What each masked destination hides: the payout's name, its partner and its time. */
const MASK = ['controlNumber', 'partner', 'dealTime'];

interface Envelope {
  type: string;
  data: { data?: Record<string, unknown> };
}
const typeOf = (r: RecordedRequest): string => (r.json as Envelope).type;
const mailTo = (mail: ReceivedMail): string => mail.envelope.to.join(',');

/**
 * Every text a masked destination receives, for every kind of event skyrelay raises: alert prose names payouts
 * (`Payout SK… of AppName@skypay was already paid…`), a receiver's echoed error quotes them, a group message lists
 * them. None of the hidden values may reach Slack (message JSON), email (subject, text, HTML, raw) or a webhook body.
 */
describe('masking in the prose of every event (real Slack receiver, SMTP server, webhook receivers, SkyPay simulator)', function () {
  this.timeout(90_000);
  let sim: SkyPaySimulator;
  let slack: Receiver;
  let ledger: Receiver;
  let broken: Receiver;
  let smtp: SmtpServerHandle;
  let t: TestDaemon;
  let overrides: Record<string, unknown>;
  /** Every value a masked destination must never receive whole. */
  const hidden = new Set<string>([SAMPLE_PARTNER]);

  before(async () => {
    sim = await SkyPaySimulator.start({
      userName: SAMPLE_PARTNER,
      authentication: SAMPLE_AUTH,
      encryptKey: SAMPLE_ENCRYPT_KEY,
    });
    [slack, ledger, broken, smtp] = await Promise.all([
      startReceiver(),
      startReceiver(),
      startReceiver(),
      startSmtpServer(),
    ]);
    // A receiver refusing in its own words, naming what it got: the unmasked destination's answer reaches alerts.
    broken.respondWith(
      replies.echo(400, (r) => {
        const data = (r.json as { data: Record<string, unknown> }).data;
        return `refused payout ${String(data['controlNumber'])} of ${String(data['partner'])} at ${String(data['dealTime'])}`;
      }),
    );
    const email = (to: string, extra: Record<string, unknown> = {}) => ({
      type: 'email',
      transport: smtp.url,
      from: 'skyrelay@example.com',
      to: [to],
      mask: MASK,
      ...extra,
    });
    overrides = {
      skypay: {
        partners: [{ userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] }],
        statusQuery: { url: sim.url, partner: SAMPLE_PARTNER, intervalMs: 200, minAgeMs: 300, timeoutMs: 2000 },
      },
      destinations: {
        'ops-slack': { type: 'slack', url: `${slack.url}/services/T0/B0/opsMaskProse`, mask: MASK },
        'ops-email': email('ops@example.com'),
        ledger: { type: 'webhook', url: `${ledger.url}/ledger`, secret: SECRET, mask: MASK },
        'group-slack': {
          type: 'slack',
          url: `${slack.url}/services/T0/B0/groupMaskProse`,
          mask: MASK,
          group: { waitMs: 300, intervalMs: 1000 },
        },
        'group-email': email('groups@example.com', { group: { waitMs: 300, intervalMs: 1000 } }),
        broken: { type: 'webhook', url: `${broken.url}/in`, secret: SECRET },
      },
      rules: [
        { name: 'everything', match: { source: ['skypay', 'skyrelay'] }, to: ['ops-slack', 'ops-email', 'ledger'] },
        { name: 'failures', match: { payType: 'failure' }, to: ['group-slack', 'group-email', 'broken'] },
      ],
      payouts: { stuckAfterMs: 1_500, checkIntervalMs: 200 },
      delivery: { pollIntervalMs: 100, maxAttempts: 1 },
      alerts: { rejectionWindowMs: 1000 },
    };
    t = await startTestDaemon(overrides);
  });
  after(async () => {
    await t.stop();
    await Promise.all([sim.stop(), slack.close(), ledger.close(), broken.close(), smtp.close()]);
  });

  async function send(controlNumber: string, payType: string, dealTime: string, extra = {}): Promise<void> {
    hidden.add(controlNumber).add(dealTime);
    // The same instant as UTC, as dealTimeUtc carries it.
    hidden.add(new Date(`${dealTime.replace(' ', 'T')}+08:00`).toISOString());
    const body = buildCallback({ controlNumber, payType, dealTime, ...extra });
    const res = await postCallback(t.callbackUrl, body, { encryptKey: SAMPLE_ENCRYPT_KEY });
    expect((decryptReply(res.text, SAMPLE_ENCRYPT_KEY) as Record<string, unknown>)['responseCode']).to.equal('1000');
  }

  const ledgerHas = (type: string, kind?: string) =>
    ledger.waitFor(
      (rs) =>
        rs.some((r) => typeOf(r) === type && (kind === undefined || (r.json as Envelope).data.data?.['kind'] === kind)),
      20_000,
    );

  it('hides the masked values in every alert, reason, echoed error and group message, in Slack, email and webhooks', async () => {
    const contradicted = nextControlNumber('SKMPA');
    const missed = nextControlNumber('SKMPB');
    const anomalous = nextControlNumber('SKMPC');
    const stuck = nextControlNumber('SKMPD');
    const uploadedAt = dealTimeFromNow(-9 * MINUTE);
    const paidAt = dealTimeFromNow(-8 * MINUTE);
    const failedAt = dealTimeFromNow(-7 * MINUTE);
    const queriedAt = dealTimeFromNow(-6 * MINUTE);
    const missedPaidAt = dealTimeFromNow(-5 * MINUTE);
    for (const time of [queriedAt, missedPaidAt]) hidden.add(time);
    sim.set(
      // SkyPay says failed where a callback said paid: the daemon's round contradicts the pending confirmation
      // (unconfirmed), then `skyrelay reconcile` raises the plain contradiction of a final status (reconciliation).
      {
        controlNumber: contradicted,
        status: '4',
        statusDesc: 'Failed',
        transactionDate: queriedAt,
        payTime: '',
        cancelTime: '',
      },
      // SkyPay says paid where no callback did: the daemon's round makes the missed event.
      {
        controlNumber: missed,
        status: '1',
        statusDesc: 'Completed',
        transactionDate: uploadedAt,
        payTime: missedPaidAt,
        cancelTime: '',
      },
    );

    await send(contradicted, '1', uploadedAt);
    await send(contradicted, '2', paidAt);
    await send(missed, '1', uploadedAt);
    // A final payout that gets another final status: payout.anomaly; its failure dies at `broken` (delivery.dead).
    await send(anomalous, '1', uploadedAt);
    await send(anomalous, '2', paidAt);
    await send(anomalous, '4', failedAt, { failDescription: `Payout ${anomalous} of ${SAMPLE_PARTNER} refused` });
    // Left uploaded past stuckAfterMs (payout.stuck), then paid (payout.unstuck).
    await send(stuck, '1', uploadedAt);
    await ledgerHas('skyrelay.payout.stuck');
    await send(stuck, '2', paidAt);
    // The same identity with other content: callback.conflict.
    await send(contradicted, '2', paidAt, { note: `copy of ${contradicted}` });
    // A wrong key in the partner's name: a rejection alert naming the partner it claimed.
    const refused = await postCallback(t.callbackUrl, buildCallback({ authentication: 'WRONG-KEY-00' }), {
      encryptKey: SAMPLE_ENCRYPT_KEY,
    });
    expect(refused.status).to.equal(401);
    await ledgerHas('skyrelay.payout.anomaly', 'unconfirmed');
    const reconciled = await runCli(['reconcile', '--control-number', contradicted], {
      ...overrides,
      skypay: {
        ...(overrides['skypay'] as object),
        statusQuery: { url: sim.url, partner: SAMPLE_PARTNER, minAgeMs: 1 },
      },
      store: { path: t.dbPath },
    });
    expect(reconciled.stdout, reconciled.stderr).to.match(/raised payout\.anomaly/);

    await ledgerHas('skyrelay.payout.anomaly', 'reconciliation');
    for (const type of [
      'skyrelay.payout.anomaly',
      'skyrelay.payout.unstuck',
      'skyrelay.delivery.dead',
      'skyrelay.rejection',
      'skyrelay.callback.conflict',
      'skypay.payout.paid',
    ]) {
      await ledgerHas(type);
    }
    await ledger.waitFor(
      (rs) =>
        rs.some(
          (r) => typeOf(r) === 'skypay.payout.paid' && JSON.stringify(r.json).includes('"origin":"reconciliation"'),
        ),
      20_000,
    );
    // The database file goes away: database.lost still goes out through the open handle.
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${t.dbPath}${suffix}`, { force: true });
    await ledgerHas('skyrelay.database.lost');

    // Slack and email got what the ledger got (one rule), and each group destination its group message.
    const singles = (rs: readonly RecordedRequest[]) => rs.filter((r) => r.url.endsWith('/opsMaskProse'));
    await waitUntil(() => singles(slack.requests).length >= ledger.requests.length, 'Slack to get every event', 20_000);
    await waitUntil(
      () => smtp.messages.filter((m) => mailTo(m) === 'ops@example.com').length >= ledger.requests.length,
      'email to get every event',
      20_000,
    );
    await slack.waitFor((rs) => rs.some((r) => r.url.endsWith('/groupMaskProse')), 20_000);
    await smtp.waitFor((ms) => ms.some((m) => mailTo(m) === 'groups@example.com'), 20_000);

    const received: [where: string, text: string][] = [
      ...slack.requests.map((r): [string, string] => [`Slack ${r.url}: ${r.body.slice(0, 200)}`, r.body]),
      ...ledger.requests.map((r): [string, string] => [`webhook ${typeOf(r)}`, r.body]),
      ...smtp.messages.flatMap((m): [string, string][] => [
        [`mail to ${mailTo(m)}: subject ${m.parsed.subject}`, m.parsed.subject],
        [`mail to ${mailTo(m)}: text of ${m.parsed.subject}`, m.parsed.text],
        [`mail to ${mailTo(m)}: HTML of ${m.parsed.subject}`, m.parsed.html],
        [`mail to ${mailTo(m)}: raw ${m.parsed.subject}`, m.raw],
      ]),
    ];
    for (const [where, text] of received) {
      for (const value of hidden)
        expect(text.toLowerCase(), `${value} in ${where}`).not.to.include(value.toLowerCase());
    }
    // The prose still reads, with the masked view's values in it. The anomaly of the paid payout that then failed
    // (the others, unconfirmed and reconciliation, come from SkyPay's status query and name no payout in prose).
    const anomaly = ledger.requests.find(
      (r) =>
        typeOf(r) === 'skyrelay.payout.anomaly' &&
        ['after-final', 'conflict'].includes(String((r.json as Envelope).data.data?.['kind'])),
    );
    expect(String((anomaly?.json as Envelope).data.data?.['reason'])).to.match(
      /^Payout \*\*\*\*\d{4} of \*\*\*\*ypay was already paid \(final\)/,
    );
    // What the unmasked destination got is whole: the test would see a leak.
    expect(broken.requests.map((r) => r.body).join(''))
      .to.include(anomalous)
      .and.include(SAMPLE_PARTNER);
  });
});
