import { createPublicKey, verify } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { generateEd25519Key } from '../../../src/destinations/keys';
import type { WebhookDestinationConfig } from '../../../src/destinations/schema';
import type { Destination } from '../../../src/destinations/types';
import { createWebhookDestination } from '../../../src/destinations/webhook';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { catchDeliveryError, dumpError } from '../../support/delivery-errors';
import { buildDeliveryRequest, buildPayoutEvent } from '../../support/fixtures';
import { replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
import { spawnDaemon } from '../../support/spawn';
import { runCli } from '../cli/run-cli';

const NEW = `whsec_${Buffer.from('rotation-test-the-new-secret-0001').toString('base64')}`;
const OLD = `whsec_${Buffer.from('rotation-test-the-old-secret-0002').toString('base64')}`;
const KEY = generateEd25519Key();

function flatten(request: RecordedRequest | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request?.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
  );
}

/** Each library as a receiver configured with one secret would run it. */
const VERIFIERS = {
  standardwebhooks: (secret: string, r: RecordedRequest | undefined) =>
    new StandardWebhook(secret).verify(r?.body ?? '', flatten(r)),
  svix: (secret: string, r: RecordedRequest | undefined) => new SvixWebhook(secret).verify(r?.body ?? '', flatten(r)),
};

/** For each library, whether a receiver holding only `secret` accepts the request. */
function acceptedBy(secret: string, request: RecordedRequest | undefined): Record<keyof typeof VERIFIERS, boolean> {
  const result = { standardwebhooks: false, svix: false };
  for (const name of Object.keys(VERIFIERS) as Array<keyof typeof VERIFIERS>) {
    try {
      VERIFIERS[name](secret, request);
      result[name] = true;
    } catch {
      result[name] = false;
    }
  }
  return result;
}

const BOTH = { standardwebhooks: true, svix: true };
const NEITHER = { standardwebhooks: false, svix: false };

/**
 * A receiver's check of a `v1a` signature with node:crypto alone and the `whpk_` key it was given: the 32 key
 * bytes behind Ed25519's fixed SPKI header (RFC 8410), and the signature over `{id}.{timestamp}.{body}`.
 */
function verifiesV1a(publicKey: string, request: RecordedRequest | undefined): boolean {
  expect(publicKey).to.match(/^whpk_/);
  const key = createPublicKey({
    key: Buffer.concat([
      Buffer.from('302a300506032b6570032100', 'hex'),
      Buffer.from(publicKey.slice('whpk_'.length), 'base64'),
    ]),
    format: 'der',
    type: 'spki',
  });
  const headers = flatten(request);
  const content = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${request?.body ?? ''}`;
  const signatures = (headers['webhook-signature'] ?? '').split(' ').filter((s) => s.startsWith('v1a,'));
  expect(signatures, 'one v1a signature').to.have.length(1);
  return verify(null, Buffer.from(content), key, Buffer.from(signatures[0]?.slice('v1a,'.length) ?? '', 'base64'));
}

describe('webhook secret rotation (real receiver, injected clock)', () => {
  let receiver: Receiver;
  let hook: Destination | undefined;
  // The only thing mocked: the clock the destination stamps and signs each attempt by.
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;

  beforeEach(async () => {
    receiver = await startReceiver();
    offsetMs = 0;
  });
  afterEach(async () => {
    await hook?.close();
    hook = undefined;
    await receiver.close();
  });

  function createHook(signing: Partial<WebhookDestinationConfig>): Destination {
    hook = createWebhookDestination(
      'ledger',
      { type: 'webhook', url: `${receiver.url}/hooks`, ...signing },
      { timeoutMs: 5_000, now: clock },
    );
    return hook;
  }

  it('during the window the old secret alone and the new alone verify every attempt; after expiresAt only the new', async () => {
    // A minute ahead: stepping the clock past it keeps webhook-timestamp within the verifiers' 5-minute tolerance.
    const expiresAtMs = Math.ceil((Date.now() + 60_000) / 1000) * 1000;
    const webhook = createHook({
      secrets: [{ secret: NEW }, { secret: OLD, expiresAt: new Date(expiresAtMs).toISOString() }],
    });
    receiver.respondOnce(replies.unavailable());
    const retried = buildDeliveryRequest(buildPayoutEvent(), { deliveryId: 'dlv_retried' });
    await catchDeliveryError(webhook.send(retried));
    for (const id of ['dlv_during_1', 'dlv_during_2', 'dlv_during_3']) {
      await webhook.send(buildDeliveryRequest(buildPayoutEvent(), { deliveryId: id }));
    }
    const during = await receiver.waitFor(4);

    offsetMs = expiresAtMs - Date.now() + 1_000;
    // The same destination, not restarted: the retry of the first delivery, then new ones.
    await webhook.send({ ...retried, attempt: 2 });
    for (const id of ['dlv_after_1', 'dlv_after_2']) {
      await webhook.send(buildDeliveryRequest(buildPayoutEvent(), { deliveryId: id }));
    }
    const after = (await receiver.waitFor(7)).slice(4);

    for (const request of during) {
      const id = request.headers['webhook-id'];
      expect(request.headers['webhook-signature'], String(id)).to.match(/^v1,\S+ v1,\S+$/);
      expect(acceptedBy(OLD, request), `old secret, ${id}`).to.deep.equal(BOTH);
      expect(acceptedBy(NEW, request), `new secret, ${id}`).to.deep.equal(BOTH);
    }
    expect(after.map((r) => r.headers['webhook-id'])).to.deep.equal(['dlv_retried', 'dlv_after_1', 'dlv_after_2']);
    for (const request of after) {
      const id = request.headers['webhook-id'];
      expect(Number(request.headers['webhook-timestamp']) * 1000, String(id)).to.be.at.least(expiresAtMs);
      expect(request.headers['webhook-signature'], String(id)).to.match(/^v1,\S+$/);
      expect(acceptedBy(NEW, request), `new secret, ${id}`).to.deep.equal(BOTH);
      expect(acceptedBy(OLD, request), `old secret, ${id}`).to.deep.equal(NEITHER);
    }
  });

  it('sends v1 and v1a together during a move to Ed25519; v1a verifies with node:crypto and the key `keys public` prints', async () => {
    const ledger = {
      type: 'webhook',
      url: `${receiver.url}/hooks`,
      secret: NEW,
      signing: 'ed25519',
      privateKey: KEY.privateKey,
    } as const;
    const printed = await runCli(['keys', 'public', 'ledger'], { destinations: { ledger } });
    expect(printed.code, printed.stderr).to.equal(0);
    const publicKey = printed.stdout.trim();
    expect(printed.stdout).to.equal(`${KEY.publicKey}\n`);

    const webhook = createHook(ledger);
    await webhook.send(buildDeliveryRequest(buildPayoutEvent(), { deliveryId: 'dlv_ed25519' }));
    const [request] = await receiver.waitFor(1);
    expect(request?.headers['webhook-signature']).to.match(/^v1,\S+ v1a,\S+$/);
    expect(verifiesV1a(publicKey, request)).to.equal(true);
    expect(acceptedBy(NEW, request)).to.deep.equal(BOTH);
    // The signature covers the body: the same headers over another body do not verify.
    expect(verifiesV1a(publicKey, request && { ...request, body: request.body.replace('"data"', '"datum"') })).to.equal(
      false,
    );
    // Nor does another key's public half.
    expect(verifiesV1a(generateEd25519Key().publicKey, request)).to.equal(false);
  });

  it('scrubs every secret and the private key from an answer that quotes them', async () => {
    const webhook = createHook({
      secrets: [{ secret: NEW }, { secret: OLD, expiresAt: '2020-01-01T00:00:00Z' }],
      signing: 'ed25519',
      privateKey: KEY.privateKey,
    });
    const seed = Buffer.from(KEY.privateKey.slice('whsk_'.length), 'base64').subarray(0, 32).toString('base64');
    receiver.respondWith(
      replies.badRequest(`no match for ${NEW} nor ${OLD.slice(6)}; key ${KEY.privateKey}; seed ${seed}`),
    );
    const error = await catchDeliveryError(webhook.send(buildDeliveryRequest(buildPayoutEvent())));
    const dump = dumpError(error);
    for (const secret of [NEW.slice(6), OLD.slice(6), KEY.privateKey.slice(5), seed]) {
      expect(dump).not.to.contain(secret);
    }
    expect(error.response).to.equal('no match for [redacted] nor [redacted]; key [redacted]; seed [redacted]');
  });
});

describe('webhook secret rotation in the built daemon (short expiresAt, Ed25519 key from the environment)', function () {
  this.timeout(60_000);
  let receiver: Receiver;

  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  async function withDaemon(
    secrets: Array<{ secret: string; expiresAt?: string }>,
    work: (d: Awaited<ReturnType<typeof spawnDaemon>>, config: Record<string, unknown>) => Promise<void>,
  ): Promise<string> {
    const config = {
      server: { host: '127.0.0.1', port: 0 },
      store: { path: path.join(makeTempDir(), 'rotation.db') },
      destinations: { ledger: { type: 'webhook', url: `${receiver.url}/hooks`, secrets, signing: 'ed25519' } },
      rules: [{ name: 'ledger-feed', to: ['ledger'] }],
    };
    const d = await spawnDaemon(config, { SKYRELAY_LEDGER_PRIVATE_KEY: KEY.privateKey });
    try {
      await work(d, config);
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
    const output = d.output();
    const seed = Buffer.from(KEY.privateKey.slice('whsk_'.length), 'base64').subarray(0, 32).toString('base64');
    for (const secret of [NEW.slice(6), OLD.slice(6), KEY.privateKey.slice(5), seed]) {
      expect(output).not.to.contain(secret);
    }
    return output;
  }

  it('drops the old secret at its expiresAt without a restart; every delivery carries a v1a the printed key verifies', async () => {
    // Whole seconds, so a delivery's webhook-timestamp says on which side of expiresAt it was signed.
    const expiresAtMs = Math.ceil((Date.now() + 10_000) / 1000) * 1000;
    await withDaemon(
      [{ secret: NEW }, { secret: OLD, expiresAt: new Date(expiresAtMs).toISOString() }],
      async (d, config) => {
        const printed = await runCli(['keys', 'public', 'ledger'], config, {
          SKYRELAY_LEDGER_PRIVATE_KEY: KEY.privateKey,
        });
        expect(printed.code, printed.stderr).to.equal(0);
        const publicKey = printed.stdout.trim();

        await postCallback(d.callbackUrl, buildCallback({ payType: '1' }));
        const [before] = await receiver.waitFor(1, 15_000);
        await waitUntil(() => Date.now() >= expiresAtMs, 'the old secret to expire', 20_000);
        await postCallback(d.callbackUrl, buildCallback({ payType: '4', failDescription: 'closed' }));
        const [, after] = await receiver.waitFor(2, 15_000);

        expect(
          Number(before?.headers['webhook-timestamp']) * 1000,
          'the first delivery was signed before expiresAt (a machine this slow cannot run the test)',
        ).to.be.below(expiresAtMs);
        expect(acceptedBy(OLD, before)).to.deep.equal(BOTH);
        expect(acceptedBy(NEW, before)).to.deep.equal(BOTH);
        expect(Number(after?.headers['webhook-timestamp']) * 1000).to.be.at.least(expiresAtMs);
        expect(acceptedBy(NEW, after)).to.deep.equal(BOTH);
        expect(acceptedBy(OLD, after)).to.deep.equal(NEITHER);
        for (const request of [before, after]) expect(verifiesV1a(publicKey, request)).to.equal(true);
      },
    );
  });

  it('starts with a secret that expired already, warning about it, and signs with the others', async () => {
    const output = await withDaemon(
      [{ secret: NEW }, { secret: OLD, expiresAt: '2020-01-01T00:00:00Z' }],
      async (d) => {
        await postCallback(d.callbackUrl, buildCallback({ payType: '2' }));
        const [request] = await receiver.waitFor(1, 15_000);
        expect(acceptedBy(NEW, request)).to.deep.equal(BOTH);
        expect(acceptedBy(OLD, request)).to.deep.equal(NEITHER);
        expect(request?.headers['webhook-signature']).to.match(/^v1,\S+ v1a,\S+$/);
      },
    );
    expect(output).to.contain(
      'destinations.ledger.secrets.1.expiresAt: 2020-01-01T00:00:00Z has passed; that secret signs nothing any more, remove it',
    );
  });
});
