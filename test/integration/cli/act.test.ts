import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { replies, getRefusedUrl, startReceiver, type Receiver } from '../../support/receiver';
import { SAMPLE_AUTH, SAMPLE_ENCRYPT_KEY, buildCallback, postCallback } from '../../support/skypay';
import { runCli } from './run-cli';
import { buildPayoutEvent } from '../../support/fixtures';
import { ALL } from '../../support/store';
import type { Store } from '../../../src/store';

const SECRET = `whsec_${Buffer.from('cli-act-signing-secret-00000001').toString('base64')}`;
const ENC_AUTH = 'ENC-PARTNER-AUTH-KEY-0001';

describe('skyrelay CLI: replay, test-destination, simulate, prune', function () {
  this.timeout(30_000);
  let t: TestDaemon;
  let hook: Receiver;
  let config: Record<string, unknown>;
  /** The daemon's own store, what the CLI itself reads: results are checked through it. */
  let store: Store;
  const deadIds = async () => (await store.listDeliveries({ state: 'dead', limit: ALL })).map((d) => d.id).sort();
  const eventIds = async () => (await store.listEvents({ limit: ALL })).map((e) => e.id);
  const rejectionIds = async () => (await store.listRejections({ limit: ALL })).map((r) => r.id);
  const webhookIds = () => hook.requests.map((r) => String(r.headers['webhook-id']));

  before(async () => {
    hook = await startReceiver();
    hook.respondWith(replies.badRequest('no_service'));
    const overrides = {
      skypay: {
        partners: [
          { userName: 'AppName@skypay', authentication: [SAMPLE_AUTH], encryptKeys: [] },
          { userName: 'Enc@skypay', authentication: [ENC_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] },
        ],
      },
      destinations: { hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET } },
      rules: [{ name: 'feed', match: { partner: 'AppName@skypay' }, to: ['hook'] }],
      delivery: { pollIntervalMs: 100 },
    };
    t = await startTestDaemon(overrides);
    config = { ...overrides, server: { host: '127.0.0.1', port: t.daemon.address.port }, store: { path: t.dbPath } };
    store = t.daemon.store;
    for (let i = 0; i < 3; i++) await postCallback(t.callbackUrl, buildCallback({ payType: '2' }));
    await hook.waitFor(3);
  });
  after(async () => {
    await t.stop();
    await hook.close();
  });

  it('replay <id>: the running daemon sends it again; unknown ids and mixed modes fail', async () => {
    hook.respondWith(replies.ok());
    const [id] = await deadIds();
    const r = await runCli(['replay', id ?? ''], config);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`^requeued ${id}\n1 delivery queued`));
    await hook.waitFor((rs) => rs.filter((q) => q.headers['webhook-id'] === id).length === 2);
    const [unknown, mixed] = await Promise.all([
      runCli(['replay', 'dlv_nope'], config),
      runCli(['replay', 'dlv_x', '--dead'], config),
    ]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stdout).to.contain('skipped  dlv_nope: no such delivery');
    expect(mixed.code).to.equal(2);
  });

  it('replay --dead --destination, and replay --event', async () => {
    const dead = await deadIds();
    expect(dead).to.have.length(2);
    const r = await runCli(['replay', '--dead', '--destination', 'hook', '--since', '1h'], config);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('2 deliveries queued');
    await hook.waitFor((rs) => dead.every((id) => rs.filter((q) => q.headers['webhook-id'] === id).length === 2));
    const eventId = (await store.listDeliveries({ limit: ALL })).find((d) => d.id === dead[0])?.eventId ?? '';
    const again = await runCli(['replay', '--event', eventId], config);
    expect(again.code).to.equal(0);
    await hook.waitFor(() => webhookIds().filter((id) => id === dead[0]).length === 3);
  });

  it('test-destination: sends a marked sample and prints the answer; exit 1 when the receiver refuses', async () => {
    const before = hook.requests.length;
    const ok = await runCli(['test-destination', 'hook'], config);
    expect(ok.code).to.equal(0);
    expect(ok.stdout).to.match(/^sent a sample failure event to hook \(webhook\) in \d+ ms/);
    expect(ok.stdout).to.contain('receiver answered: HTTP 200: ok');
    const sample = hook.requests[before]?.body ?? '';
    expect(sample).to.contain('SKYRELAYTEST00').and.contain('not a real payout');
    hook.respondWith(replies.badRequest('invalid_token'));
    const refused = await runCli(['test-destination', 'hook', '--status', 'paid'], config);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain(
      'sending to hook failed: Webhook destination hook: HTTP 400 invalid_token (permanent: ',
    );
    const unknown = await runCli(['test-destination', 'nope'], config);
    expect(unknown.stderr).to.contain('no destination "nope" (configured: hook)');
    expect(await store.findEventsByControlNumber('SKYRELAYTEST00')).to.deep.equal([]);
  });

  it('simulate: a plain and an encrypted callback reach the daemon and are stored; the key never shows', async () => {
    const plain = await runCli(['simulate', '--pay-type', 'failure', '--control-number', 'SIMTEST00000001'], config);
    expect(plain.code).to.equal(0);
    expect(plain.stdout).to.match(/HTTP 200: \{"responseTime":"[^"]+","responseCode":"1000"/);
    const enc = await runCli(['simulate', '--partner', 'Enc@skypay', '--encrypt', '--pay-type', '2'], config);
    expect(enc.code).to.equal(0);
    expect(enc.stdout).to.contain('(encrypted)').and.contain('"responseCode":"1000"');
    const rows = (await store.listEvents({ limit: ALL }))
      .filter((e) => e.controlNumber?.startsWith('SIM'))
      .reverse()
      .map((e) => ({ partner: e.partner, status: e.status }));
    expect(rows).to.deep.equal([
      { partner: 'AppName@skypay', status: 'failure' },
      { partner: 'Enc@skypay', status: 'paid' },
    ]);
    for (const out of [plain.stdout, enc.stdout])
      for (const s of [SAMPLE_AUTH, ENC_AUTH, SAMPLE_ENCRYPT_KEY]) expect(out).not.to.contain(s);
    // The partner's key is required encrypted: plain JSON for it is refused, and simulate says so with exit 1.
    const refused = await runCli(['simulate', '--partner', 'Enc@skypay'], config);
    expect(refused.code).to.equal(1);
    expect(refused.stdout).to.match(/HTTP 401/);
    const [noKey, down] = await Promise.all([
      runCli(['simulate', '--encrypt'], config),
      runCli(['simulate', '--url', `${await getRefusedUrl()}/callbacks/skypay`], config),
    ]);
    expect(noKey.code).to.equal(1);
    expect(down.code).to.equal(1);
    expect(down.stderr).to.match(/could not reach .*ECONNREFUSED/);
  });

  it('prune: counts on --dry-run, then deletes old finished events and rejections', async () => {
    const old = Date.now() - 10 * 86_400_000;
    // Stored as if received ten days ago: saveEvent and saveRejection take the arrival time they are given.
    await store.saveEvent(buildPayoutEvent({ id: 'evt_ancient', receivedAt: new Date(old).toISOString() }), []);
    await store.saveRejection({
      id: 'rej_ancient',
      receivedAt: new Date(old),
      remoteAddress: undefined,
      method: 'POST',
      path: '/',
      contentType: undefined,
      status: 401,
      reason: 'unauthenticated',
      description: 'x',
      partner: undefined,
      body: undefined,
    });
    const dry = await runCli(['prune', '--older-than', '7d', '--rejections-older-than', '7d', '--dry-run'], config);
    expect(dry.stdout).to.match(/^would delete 1 events received before .* and 1 rejections before/);
    expect(await eventIds()).to.include('evt_ancient');
    expect(await rejectionIds()).to.include('rej_ancient');
    const real = await runCli(['prune', '--older-than', '7d', '--rejections-older-than', '7d'], config);
    expect(real.code).to.equal(0);
    expect(real.stdout).to.match(/^deleted 1 events received before .*\ndeleted 1 rejections before/);
    expect(await eventIds()).not.to.include('evt_ancient');
    expect(await rejectionIds()).not.to.include('rej_ancient');
    expect(await eventIds()).to.have.length(5);
  });
});
