import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';
import { createTestDatabase, describePostgres } from '../../support/postgres';
import { decryptReply, postCallback, SAMPLE_AUTH, SAMPLE_ENCRYPT_KEY, SAMPLE_PARTNER } from '../../support/skypay';

const SECRET = `whsec_${Buffer.from('finance-test-signing-secret-0001').toString('base64')}`;
const PLAIN_PARTNER = 'Plain@skypay';
const PLAIN_AUTH = 'PLAIN-PARTNER-KEY-0000-1111-2222';
const FINANCE_PATH = '/callbacks/skypay-finance';

let serial = 0;
/** SkyPay's 8.1 sample with a reference number of its own (`amount` a number, as the sample sends it). */
function financeNotification(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  serial += 1;
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
    signType: 'recharge',
    amount: 12000000,
    currency: 'PHP',
    referenceNumber: `D-${Date.now() % 1e8}-${serial}`,
    ...overrides,
  };
}

const about =
  (reference: unknown) =>
  (r: RecordedRequest): boolean =>
    r.body.includes(String(reference));

/** The same suite on each store: only what is kept (SQL in src/store/<driver>/) differs between them. */
const STORES = [
  {
    name: 'SQLite',
    describe: describe as typeof describePostgres,
    open: () => Promise.resolve({ overrides: {}, drop: () => Promise.resolve() }),
  },
  {
    name: 'PostgreSQL',
    describe: describePostgres,
    open: async () => {
      const db = await createTestDatabase();
      return { overrides: { store: { url: db.url } }, drop: () => db.drop() };
    },
  },
];

for (const store of STORES) {
  store.describe(`financeNotification through the running daemon (${store.name})`, function () {
    let t: TestDaemon;
    let drop: () => Promise<void> = () => Promise.resolve();
    let ledger: Receiver;
    let slack: Receiver;
    let smtp: SmtpServerHandle;

    before(async () => {
      ledger = await startReceiver();
      slack = await startReceiver();
      smtp = await startSmtpServer();
      const opened = await store.open();
      drop = opened.drop;
      t = await startTestDaemon({
        ...opened.overrides,
        skypay: {
          financePath: FINANCE_PATH,
          partners: [
            { userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] },
            { userName: PLAIN_PARTNER, authentication: [PLAIN_AUTH], encryptKeys: [] },
          ],
        },
        destinations: {
          ledger: { type: 'webhook', url: `${ledger.url}/hooks`, secret: SECRET },
          'ops-slack': { type: 'slack', url: `${slack.url}/services/T000/B000/finance` },
          'finance-mail': {
            type: 'email',
            transport: smtp.url,
            from: 'skyrelay@example.com',
            to: ['finance@example.com'],
          },
        },
        rules: [
          { name: 'top-ups', match: { statementType: 1, signType: 'recharge' }, to: ['ops-slack'] },
          { name: 'finance-ledger', match: { action: 'financeNotification' }, to: ['ledger'] },
          { name: 'withdrawals', match: { statementType: [5, 6], signType: 'reduce' }, to: ['finance-mail'] },
        ],
        delivery: { initialBackoffMs: 50, maxBackoffMs: 200 },
      });
    });

    after(async () => {
      await t?.stop();
      await ledger?.close();
      await slack?.close();
      await smtp?.close();
      await drop();
    });

    const financeUrl = (): string => `${t.baseUrl}${FINANCE_PATH}`;
    /** The finance events stored under one reference number, read through the store interface. */
    const financeEvents = async (reference: unknown) => {
      const listed = await t.daemon.store.listEvents({ type: 'finance', limit: 500 });
      const details = await Promise.all(listed.map((e) => t.daemon.store.getEvent(e.id)));
      return details.filter(
        (d) => d?.event.source === 'skypay' && d.event.type === 'finance' && d.event.referenceNumber === reference,
      );
    };

    it('acknowledges an encrypted notification encrypted, and relays it as skypay.finance.recharge', async () => {
      const body = financeNotification();
      const reply = await postCallback(t.callbackUrl, body, { encryptKey: SAMPLE_ENCRYPT_KEY });
      expect(reply.status, reply.text).to.equal(200);
      expect(reply.contentType).to.match(/^text\/plain/);
      expect(decryptReply(reply.text, SAMPLE_ENCRYPT_KEY)).to.include({ responseCode: '1000' });

      const [hook] = (await ledger.waitFor((rs) => rs.some(about(body['referenceNumber'])))).filter(
        about(body['referenceNumber']),
      );
      const envelope = hook?.json as { type: string; data: Record<string, unknown> };
      expect(envelope.type).to.equal('skypay.finance.recharge');
      expect(envelope.data).to.deep.include({
        type: 'finance',
        partner: SAMPLE_PARTNER,
        referenceNumber: body['referenceNumber'],
        accountNo: '091234567899',
        statementType: 1,
        signType: 'recharge',
        amount: 12000000,
        currency: 'PHP',
        transactionDate: '2023-06-18 17:52:10',
        transactionDateUtc: '2023-06-18T09:52:10.000Z',
        beneficiaryAccountNo: '001234567899',
      });
      expect(hook?.body, 'the key never leaves ingest').not.to.include(SAMPLE_AUTH);
    });

    it('acknowledges a plain JSON notification in JSON, and routes by statementType: a top-up reaches Slack readably', async () => {
      const body = financeNotification({ userName: PLAIN_PARTNER, authentication: PLAIN_AUTH, amount: '2500' });
      const reply = await postCallback(t.callbackUrl, body);
      expect(reply.status, reply.text).to.equal(200);
      expect(reply.json).to.include({ responseCode: '1000', responseDescription: 'Success' });

      const messages = (await slack.waitFor((rs) => rs.some(about(body['referenceNumber'])))).filter(
        about(body['referenceNumber']),
      );
      expect(messages).to.have.length(1);
      const message = messages[0]?.json as { text: string; blocks: { type: string; text?: { text: string } }[] };
      expect(message.blocks[0]?.text?.text).to.equal('Account credited: payout account top-up');
      expect(message.text).to.include('2500 PHP on account 091234567899');
      expect(messages[0]?.body).to.include('*Amount*\\n2500 PHP');
      expect(messages[0]?.body).to.include('Transaction time');
      expect(messages[0]?.body).to.include('2023-06-18 17:52:10 GMT+8');
    });

    it('routes a payout-account withdrawal (statementType 6, reduce) to the ledger and by email, not to Slack', async () => {
      const body = financeNotification({ statementType: 6, signType: 'reduce', sourceAccountNo: '091234567899' });
      expect((await postCallback(t.callbackUrl, body, { encryptKey: SAMPLE_ENCRYPT_KEY })).status).to.equal(200);
      const hooks = (await ledger.waitFor((rs) => rs.some(about(body['referenceNumber'])))).filter(
        about(body['referenceNumber']),
      );
      expect((hooks[0]?.json as { type: string }).type).to.equal('skypay.finance.reduce');
      // Every delivery is planned in the event's own commit, so these are all it will ever get.
      const detail = await t.daemon.store.getEvent((hooks[0]?.json as { data: { id: string } }).data.id);
      expect(detail?.deliveries.map((d) => d.destination).sort()).to.deep.equal(['finance-mail', 'ledger']);
      expect(slack.requests.filter(about(body['referenceNumber']))).to.have.length(0);

      // Mailed readably: the subject says debit, amount as sent with its currency, and the account.
      const mails = await smtp.waitFor((ms) => ms.some((m) => m.raw.includes(String(body['referenceNumber']))));
      const mail = mails.find((m) => m.raw.includes(String(body['referenceNumber'])));
      expect(mail?.parsed.subject).to.equal('[skyrelay] Finance reduce 12000000 PHP account 091234567899');
      expect(mail?.parsed.text).to.include('Account debited: withdrawal from the payout account');
      expect(mail?.parsed.text).to.include('Amount: 12000000 PHP');
      expect(mail?.parsed.text).to.include('Source account: 091234567899');
    });

    it('counts an identical copy as a duplicate: 1000 again, one event, relayed once', async () => {
      const body = financeNotification();
      for (let i = 0; i < 3; i++) {
        const reply = await postCallback(t.callbackUrl, body, { encryptKey: SAMPLE_ENCRYPT_KEY });
        expect(decryptReply(reply.text, SAMPLE_ENCRYPT_KEY)).to.include({ responseCode: '1000' });
      }
      const [hook] = (await ledger.waitFor((rs) => rs.some(about(body['referenceNumber'])))).filter(
        about(body['referenceNumber']),
      );
      const eventId = (hook?.json as { data: { id: string } }).data.id;
      await waitUntil(async () => (await t.daemon.store.getEvent(eventId))?.duplicates === 2, 'two duplicates counted');
      const detail = await t.daemon.store.getEvent(eventId);
      expect(
        detail?.deliveries.map((d) => d.destination).sort(),
        'one per destination, none for the copies',
      ).to.deep.equal(['ledger', 'ops-slack']);
      expect(ledger.requests.filter(about(body['referenceNumber']))).to.have.length(1);
      expect(
        t.logs.filter((l) => l.includes(String(body['referenceNumber'])) && l.includes('"outcome":"duplicate"')),
      ).to.have.length(2);
    });

    it('keeps a conflicting copy (same identity, another amount): acknowledged, kept, relayed nowhere', async () => {
      const body = financeNotification();
      expect((await postCallback(t.callbackUrl, body, { encryptKey: SAMPLE_ENCRYPT_KEY })).status).to.equal(200);
      const changed = { ...body, amount: 99, companyName: 'SOMEONE ELSE' };
      const reply = await postCallback(t.callbackUrl, changed, { encryptKey: SAMPLE_ENCRYPT_KEY });
      expect(decryptReply(reply.text, SAMPLE_ENCRYPT_KEY)).to.include({ responseCode: '1000' });

      const [hook] = (await ledger.waitFor((rs) => rs.some(about(body['referenceNumber'])))).filter(
        about(body['referenceNumber']),
      );
      const detail = await t.daemon.store.getEvent((hook?.json as { data: { id: string } }).data.id);
      expect(detail?.conflicts).to.have.length(1);
      expect(detail?.conflicts[0]?.differs).to.deep.equal(['amount', 'companyName']);
      expect(
        detail?.deliveries.map((d) => d.destination).sort(),
        'one per destination, none for the copies',
      ).to.deep.equal(['ledger', 'ops-slack']);
      const conflictLine = t.logs.find(
        (l) => l.includes(String(body['referenceNumber'])) && l.includes('"outcome":"conflict"'),
      );
      expect(conflictLine, 'logged as a conflict').to.not.equal(undefined);

      // The other account of a transfer is notified under the same reference: its own event, not a conflict.
      const otherAccount = { ...body, accountNo: '005555555555', statementType: '3' };
      expect((await postCallback(t.callbackUrl, otherAccount, { encryptKey: SAMPLE_ENCRYPT_KEY })).status).to.equal(
        200,
      );
      await ledger.waitFor((rs) => rs.filter(about(body['referenceNumber'])).length === 2);
    });

    it('refuses a bad field with 400 naming it, encrypted under the key that opened it, and keeps the rejection', async () => {
      const body = financeNotification({ amount: 'twelve', referenceNumber: 'D-BAD-AMOUNT-1' });
      const reply = await postCallback(t.callbackUrl, body, { encryptKey: SAMPLE_ENCRYPT_KEY });
      expect(reply.status).to.equal(400);
      const answer = decryptReply(reply.text, SAMPLE_ENCRYPT_KEY) as Record<string, unknown>;
      expect(answer['responseCode']).to.equal('400');
      expect(answer['responseDescription']).to.equal(
        'amount: must be a whole number of at least 0 (an integer, or its digits as a string)',
      );
      const missing = financeNotification({ userName: PLAIN_PARTNER, authentication: PLAIN_AUTH, signType: 'credit' });
      const plain = await postCallback(t.callbackUrl, missing);
      expect(plain.status).to.equal(400);
      expect(plain.json?.['responseDescription']).to.equal('signType: must be "recharge" or "reduce"');

      await waitUntil(async () => {
        const kept = await t.daemon.store.listRejections({ reason: 'invalid', limit: 50 });
        return kept.filter((r) => /^(amount|signType):/.test(r.description)).length === 2;
      }, 'both rejections kept');
      const kept = await t.daemon.store.listRejections({ reason: 'invalid', limit: 50 });
      expect(kept.find((r) => r.description.startsWith('amount:'))).to.include({
        status: 400,
        partner: SAMPLE_PARTNER,
      });
    });

    it('takes notifications on skypay.financePath too, and refuses payout callbacks there', async () => {
      const body = financeNotification();
      const reply = await postCallback(financeUrl(), body, { encryptKey: SAMPLE_ENCRYPT_KEY });
      expect(decryptReply(reply.text, SAMPLE_ENCRYPT_KEY)).to.include({ responseCode: '1000' });
      await ledger.waitFor((rs) => rs.some(about(body['referenceNumber'])));

      const payout = {
        userName: PLAIN_PARTNER,
        action: 'payoutQueuePayout',
        authentication: PLAIN_AUTH,
        controlNumber: 'SKY990000012345',
        payType: '1',
        dealTime: '2023-06-18 17:52:10',
      };
      const refused = await postCallback(financeUrl(), payout);
      expect(refused.status).to.equal(400);
      expect(refused.json?.['responseDescription']).to.equal('action: must be exactly "financeNotification"');
      // The payout path still takes payouts.
      expect((await postCallback(t.callbackUrl, payout)).json?.['responseCode']).to.equal('1000');
      expect(await financeEvents(body['referenceNumber'])).to.have.length(1);
    });

    it('authenticates before reading a notification: a wrong key is 401 whatever the fields say', async () => {
      const body = financeNotification({ userName: PLAIN_PARTNER, authentication: 'WRONG-KEY-0000', amount: 'x' });
      const reply = await postCallback(financeUrl(), body);
      expect(reply.status).to.equal(401);
      expect(reply.text).not.to.include('WRONG-KEY-0000');
    });
  });
}
