import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import {
  SAMPLE_AUTH,
  SAMPLE_ENCRYPT_KEY,
  SAMPLE_PARTNER,
  buildCallback,
  decryptReply,
  postCallback,
} from '../../support/skypay';
import { stringifyEvent } from '../../../src/event-json';
import type { Store } from '../../../src/store/store';

const AUTHENTICATION_FAILED = 'authentication failed: check userName, the authentication key and the encrypt key';
const RESPONSE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{4}$/;

/** Every event of one payout, as `skyrelay show <controlNumber>` lists them. */
function readEvents(store: Store, controlNumber: unknown) {
  return store.findEventsByControlNumber(String(controlNumber));
}

describe('POST /callbacks/skypay (plain JSON)', () => {
  let t: TestDaemon;
  before(async () => {
    t = await startTestDaemon();
  });
  after(async () => {
    await t.stop();
  });

  it("acknowledges a valid callback with SkyPay's exact success reply, after storing it", async () => {
    const body = buildCallback({ referenceNumber: 'MLA001041380755361119' });
    const res = await postCallback(t.callbackUrl, body);
    expect(res.status).to.equal(200);
    expect(res.contentType).to.match(/application\/json/);
    expect(Object.keys(res.json ?? {})).to.deep.equal(['responseTime', 'responseCode', 'responseDescription']);
    expect(res.json).to.include({ responseCode: '1000', responseDescription: 'Success' });
    expect(res.json?.['responseTime']).to.match(RESPONSE_TIME);
    expect(await readEvents(t.daemon.store, body['controlNumber'])).to.have.length(1);
  });

  it('acknowledges every payType, failures included, and stores the normalized event without the key', async () => {
    const statuses = ['upload', 'paid', 'cancel', 'failure', 'amendedSuccess', 'amendedFailure'];
    for (let payType = 1; payType <= 6; payType++) {
      const body = buildCallback({
        payType: payType % 2 ? String(payType) : payType,
        failDescription: 'Account closed',
        riskScore: 7,
      });
      const res = await postCallback(t.callbackUrl, body);
      expect(res.json?.['responseCode'], `payType ${payType}`).to.equal('1000');
      const stored = await readEvents(t.daemon.store, body['controlNumber']);
      expect(stored, `payType ${payType}`).to.have.length(1);
      // The text as written to the disk (stringifyEvent gives back what parseEvent read), not only the parsed view.
      const event = JSON.parse(stringifyEvent(stored[0]!.event)) as Record<string, unknown>;
      expect(event).to.include({
        source: 'skypay',
        action: 'payoutQueuePayout',
        partner: SAMPLE_PARTNER,
        payType,
        status: statuses[payType - 1],
        dealTime: '2018-08-07 11:58:33',
        dealTimeUtc: '2018-08-07T03:58:33.000Z',
        failDescription: 'Account closed',
        referenceNumber: null,
        duplicates: 0,
      });
      expect(event['id']).to.match(/^evt_/);
      expect(event['extra']).to.deep.equal({ riskScore: 7 });
      expect(JSON.stringify(event)).not.to.contain(SAMPLE_AUTH);
    }
  });

  it('acknowledges a repeated callback without a second event, counting the copy', async () => {
    const body = buildCallback({ payType: '2' });
    for (let i = 0; i < 3; i++)
      expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    const events = await readEvents(t.daemon.store, body['controlNumber']);
    expect(events).to.have.length(1);
    expect(events[0]?.duplicates).to.equal(2);
    expect(events[0]?.lastSeenAt).to.be.a('string');
    // A later status of the same payout is a new event, not a duplicate.
    await postCallback(t.callbackUrl, { ...body, payType: '4', dealTime: '2018-08-07 12:30:00' });
    expect(await readEvents(t.daemon.store, body['controlNumber'])).to.have.length(2);
  });

  it('logs one line per callback with outcome, controlNumber, payType, duplicate and ms, and no secret', async () => {
    const body = buildCallback({ payType: '4' });
    await postCallback(t.callbackUrl, body);
    await postCallback(t.callbackUrl, body);
    const lines = t.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['msg'] === 'callback' && l['controlNumber'] === body['controlNumber']);
    expect(lines.map((l) => l['outcome'])).to.deep.equal(['accepted', 'duplicate']);
    expect(lines[1]).to.include({ payType: 4, duplicate: true });
    expect(lines[0]?.['ms']).to.be.a('number');
    expect(t.logs.join('')).not.to.contain(SAMPLE_AUTH);
  });
});

describe('POST /callbacks/skypay (encrypted)', () => {
  let t: TestDaemon;
  const partners = [
    { userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: ['NewKey-2026-12', SAMPLE_ENCRYPT_KEY] },
    { userName: 'Plain@skypay', authentication: ['PLAIN-AUTH-KEY'], encryptKeys: [] },
  ];
  before(async () => {
    t = await startTestDaemon({ skypay: { partners } });
  });
  after(async () => {
    await t.stop();
  });

  it("opens SkyPay's own interop ciphertext and answers encrypted under the same key", async () => {
    // The exact bytes from ../shared/skypay/README.md.
    const raw =
      'ceztfixTVf9DWiRIzC0N1T/6y6zpsBLcMSdZZ2ts1rwZlX0N5FSuppTrR9ODW0zbR+Sd+AcstlSJeviwm/AYq0BMT45FL2rCKraqHuKRAoyJufaXOLhXKLAsb7Faht/EI5quzxwfy6arpQDoD4Bd6Mf73Ad+FGXImgeUMYkVjI2IoaHds29zNfUFmMCh0JdpWUnGUxQrBdYRH9ax/w1TaNVaMBn+5zEK9PBW7miLbnJiXwxvXc8S8B82jq1qKf6Yy0Kx5hLwkl06mvZZtkFF4FPCUd/craA+6EruhiTPM5LB9nLnUd4XyPry0LvIvLv/';
    const res = await postCallback(t.callbackUrl, undefined, { raw, contentType: 'text/plain' });
    expect(res.status).to.equal(200);
    expect(res.contentType).to.match(/text\/plain/);
    const reply = decryptReply(res.text, SAMPLE_ENCRYPT_KEY) as Record<string, unknown>;
    expect(reply).to.include({ responseCode: '1000', responseDescription: 'Success' });
    expect(reply['responseTime']).to.match(RESPONSE_TIME);
    const [stored] = await readEvents(t.daemon.store, 'SK99123456789');
    expect(stored?.event).to.include({ referenceNumber: 'MLA001041380755361119' });
  });

  it('accepts the new key during rotation and answers under the key that opened the request', async () => {
    const res = await postCallback(t.callbackUrl, buildCallback(), { encryptKey: 'NewKey-2026-12' });
    expect((decryptReply(res.text, 'NewKey-2026-12') as Record<string, unknown>)['responseCode']).to.equal('1000');
    expect(() => decryptReply(res.text, SAMPLE_ENCRYPT_KEY)).to.throw();
  });

  it('refuses plain JSON claiming a partner that has encrypt keys (no bypass)', async () => {
    const res = await postCallback(t.callbackUrl, buildCallback());
    expect(res.status).to.equal(401);
    expect(res.json?.['responseCode']).not.to.equal('1000');
    expect(String(res.json?.['responseDescription'])).to.equal(AUTHENTICATION_FAILED);
  });

  it('tells the client the same for every authentication failure, and keeps which one in the row and the log', async () => {
    const sends: [detail: string, send: () => ReturnType<typeof postCallback>, key?: string][] = [
      ['unknown partner (userName)', () => postCallback(t.callbackUrl, buildCallback({ userName: 'Nobody@skypay' }))],
      [
        'wrong authentication key',
        () => postCallback(t.callbackUrl, buildCallback({ userName: 'Plain@skypay', authentication: 'GUESS-1' })),
      ],
      ['this partner must send encrypted callbacks', () => postCallback(t.callbackUrl, buildCallback())],
      [
        'no configured encrypt key decrypts this body',
        () => postCallback(t.callbackUrl, buildCallback(), { encryptKey: 'SomeoneElsesKey' }),
      ],
      [
        "body was not encrypted with this partner's key",
        () =>
          postCallback(t.callbackUrl, buildCallback({ userName: 'Plain@skypay' }), { encryptKey: SAMPLE_ENCRYPT_KEY }),
        SAMPLE_ENCRYPT_KEY,
      ],
      [
        'unknown partner (userName)',
        () =>
          postCallback(t.callbackUrl, buildCallback({ userName: 'Ghost@skypay' }), { encryptKey: SAMPLE_ENCRYPT_KEY }),
        SAMPLE_ENCRYPT_KEY,
      ],
      [
        'wrong authentication key',
        () =>
          postCallback(t.callbackUrl, buildCallback({ authentication: 'GUESS-2' }), { encryptKey: SAMPLE_ENCRYPT_KEY }),
        SAMPLE_ENCRYPT_KEY,
      ],
    ];
    const before = new Set((await t.daemon.store.listRejections({ limit: 1000 })).map((r) => r.id));
    for (const [detail, send, key] of sends) {
      const res = await send();
      const reply = (key === undefined ? res.json : decryptReply(res.text, key)) as Record<string, unknown>;
      expect(res.status, detail).to.equal(401);
      expect(reply, detail).to.include({ responseCode: '401', responseDescription: AUTHENTICATION_FAILED });
    }
    const kept = (await t.daemon.store.listRejections({ limit: 1000 })).filter((r) => !before.has(r.id));
    expect(kept.map((r) => r.description).sort()).to.deep.equal(sends.map(([detail]) => detail).sort());
    const logged = t.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['outcome'] === 'refused')
      .map((l) => l['description']);
    for (const [detail] of sends) expect(logged).to.include(detail);
  });

  it('refuses a body that no configured key decrypts with 401', async () => {
    const res = await postCallback(t.callbackUrl, buildCallback(), { encryptKey: 'SomeoneElsesKey' });
    expect(res.status).to.equal(401);
    expect(res.text).not.to.contain('1000');
  });

  it('answers a refused decrypted callback encrypted, naming the field', async () => {
    const res = await postCallback(t.callbackUrl, buildCallback({ payType: '9' }), { encryptKey: SAMPLE_ENCRYPT_KEY });
    expect(res.status).to.equal(400);
    const reply = decryptReply(res.text, SAMPLE_ENCRYPT_KEY) as Record<string, unknown>;
    expect(reply['responseCode']).to.equal('400');
    expect(String(reply['responseDescription'])).to.match(/^payType: must be 1 to 6/);
  });

  it('still accepts plain JSON for a partner without encrypt keys', async () => {
    const res = await postCallback(
      t.callbackUrl,
      buildCallback({ userName: 'Plain@skypay', authentication: 'PLAIN-AUTH-KEY' }),
    );
    expect(res.json?.['responseCode']).to.equal('1000');
  });

  it("refuses an encrypted body whose userName belongs to another partner's key", async () => {
    const body = buildCallback({ userName: 'Plain@skypay', authentication: 'PLAIN-AUTH-KEY' });
    const res = await postCallback(t.callbackUrl, body, { encryptKey: SAMPLE_ENCRYPT_KEY });
    expect(res.status).to.equal(401);
  });
});
