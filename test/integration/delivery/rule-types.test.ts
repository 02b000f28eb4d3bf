import { expect } from 'chai';
import path from 'node:path';
import { CONFIG_ERROR_EXIT_CODE } from '../../../src/config/load';
import { makeTempDir, startTestDaemon, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { spawnDaemonExpectingExit } from '../../support/spawn';
import { SAMPLE_AUTH, SAMPLE_PARTNER, buildCallback, postCallback } from '../../support/skypay';

const SECRET = `whsec_${Buffer.from('rule-types-signing-secret-0001').toString('base64')}`;

function financeNotification(signType: string, referenceNumber: string): Record<string, unknown> {
  return {
    userName: SAMPLE_PARTNER,
    action: 'financeNotification',
    authentication: SAMPLE_AUTH,
    transctionDate: '2023-06-18 17:52:10',
    companyPrefix: 'SKY98',
    companyName: 'SKYPAY',
    accountNo: '091234567899',
    sourceAccountNo: '',
    beneficiaryAccountNo: '001234567899',
    statementType: '1',
    signType,
    amount: 12000000,
    currency: 'PHP',
    referenceNumber,
  };
}

const typeOf = (r: RecordedRequest): unknown => (JSON.parse(r.body) as { type: unknown }).type;

/** Rules written with the type names consumers see in webhook bodies, through the running daemon. */
describe('rules by the type names webhook bodies carry', function () {
  this.timeout(30_000);
  const names = ['recharges', 'failures', 'anomalies', 'payouts'] as const;
  const receivers = {} as Record<(typeof names)[number], Receiver>;
  let t: TestDaemon;

  before(async () => {
    for (const name of names) receivers[name] = await startReceiver();
    const destinations = Object.fromEntries(
      names.map((name) => [name, { type: 'webhook', url: `${receivers[name].url}/in`, secret: SECRET }]),
    );
    t = await startTestDaemon({
      destinations,
      rules: [
        { name: 'recharges', match: { type: 'skypay.finance.recharge' }, to: ['recharges'] },
        { name: 'failures', match: { type: 'skypay.payout.failure' }, to: ['failures'] },
        { name: 'anomalies', match: { type: 'skyrelay.payout.anomaly' }, to: ['anomalies'] },
        { name: 'payouts', match: { type: { prefix: 'skypay.payout.' } }, to: ['payouts'] },
      ],
    });
  });
  after(async () => {
    await t.stop();
    for (const name of names) await receivers[name].close();
  });

  it('routes each event to the rules naming its webhook type, skyrelay events included', async () => {
    for (const [signType, reference] of [
      ['reduce', 'D-RULES-REDUCE-1'],
      ['recharge', 'D-RULES-RECHARGE-1'],
    ]) {
      const res = await postCallback(t.callbackUrl, financeNotification(signType as string, reference as string));
      expect(res.json?.['responseCode']).to.equal('1000');
    }
    // Paid, then a failure: a status after a final one, which raises payout.anomaly.
    const paid = buildCallback({ payType: '2', dealTime: '2018-08-07 11:58:33' });
    await postCallback(t.callbackUrl, paid);
    await postCallback(t.callbackUrl, { ...paid, payType: '4', dealTime: '2018-08-07 12:30:00' });

    const [recharge] = await receivers.recharges.waitFor(1);
    expect(typeOf(recharge as RecordedRequest)).to.equal('skypay.finance.recharge');
    expect(recharge?.body).to.contain('D-RULES-RECHARGE-1');
    expect((await receivers.failures.waitFor(1)).map(typeOf)).to.deep.equal(['skypay.payout.failure']);
    expect((await receivers.anomalies.waitFor(1)).map(typeOf)).to.deep.equal(['skyrelay.payout.anomaly']);
    const payouts = await receivers.payouts.waitFor(2);
    expect(payouts.map(typeOf).sort()).to.deep.equal(['skypay.payout.failure', 'skypay.payout.paid']);
    // Everything the daemon will send was planned when these callbacks were stored: nothing else went to these.
    expect(receivers.recharges.requests).to.have.length(1);
    expect(receivers.failures.requests).to.have.length(1);
    expect(receivers.anomalies.requests).to.have.length(1);
  });

  it('refuses at start a rule type or source no event has, exit 78, naming the key', async () => {
    const { code, output } = await spawnDaemonExpectingExit({
      server: { host: '127.0.0.1', port: 0 },
      store: { path: path.join(makeTempDir(), 'rules.db') },
      destinations: { hook: { type: 'webhook', url: 'https://consumer.example/in', secret: SECRET } },
      rules: [
        { name: 'typo', match: { type: 'skypay.payouts.paid' }, to: ['hook'] },
        { name: 'source', match: { source: 'SkyPay' }, to: ['hook'] },
      ],
    });
    expect(code).to.equal(CONFIG_ERROR_EXIT_CODE);
    expect(output).to.contain('- rules.0.match: type: no event has type "skypay.payouts.paid" (expected payout');
    expect(output).to.contain('- rules.1.match: source: no event has source "SkyPay" (expected skypay or skyrelay)');
  });
});
