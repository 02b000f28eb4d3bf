import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { IncomingHttpHeaders } from 'node:http';
import type { WebhookDestinationConfig } from '../../../src/destinations/schema';
import {
  PermanentDeliveryError,
  RESPONSE_SNIPPET_BYTES,
  RetryableDeliveryError,
} from '../../../src/destinations/types';
import type { Destination } from '../../../src/destinations/types';
import { createWebhookDestination } from '../../../src/destinations/webhook';
import { catchDeliveryError, dumpError } from '../../support/delivery-errors';
import { buildDeliveryRequest, buildPayoutEvent, buildRejectionEvent } from '../../support/fixtures';
import { getRefusedUrl, replies, startReceiver } from '../../support/receiver';
import type { Receiver } from '../../support/receiver';

const SECRET = `whsec_${Buffer.from('skyrelay-test-signing-key-0123456789').toString('base64')}`;
const SECRET_BASE64 = SECRET.slice('whsec_'.length);
const TIMEOUT_MS = 300;

/** standardwebhooks wants a flat string record. */
function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
}

describe('webhook destination (real HTTP receiver)', () => {
  let receiver: Receiver;
  let webhook: Destination;

  function createWebhook(overrides: Partial<WebhookDestinationConfig> = {}): Destination {
    return createWebhookDestination(
      'ops-hook',
      { type: 'webhook', url: `${receiver.url}/hooks/skyrelay`, secret: SECRET, ...overrides },
      { timeoutMs: TIMEOUT_MS },
    );
  }

  function expectNoSecret(text: string): void {
    expect(text).not.to.include(SECRET_BASE64);
  }

  beforeEach(async () => {
    receiver = await startReceiver();
    webhook = createWebhook({ headers: { 'X-Team': 'payouts', Authorization: 'Bearer receiver-token' } });
  });

  afterEach(async () => {
    await webhook.close();
    await receiver.close();
  });

  it('posts a signed envelope that verifies with the shared secret', async () => {
    receiver.respondWith(replies.ok('{"received":true}'));
    const event = buildPayoutEvent();
    const before = Date.now();
    const result = await webhook.send(buildDeliveryRequest(event, { deliveryId: 'dlv_hook_1' }));
    expect(result).to.deep.equal({ status: 200, response: '{"received":true}' });

    const [request] = await receiver.waitFor(1);
    const headers = flatten(request?.headers ?? {});
    expect(new Webhook(SECRET).verify(request?.body ?? '', headers)).to.deep.equal(request?.json);
    expect(headers).to.include({
      'webhook-id': 'dlv_hook_1',
      'content-type': 'application/json',
      'x-team': 'payouts',
      authorization: 'Bearer receiver-token',
    });
    expect(headers['user-agent']).to.match(/^skyrelay\/\d+\.\d+\.\d+/);
    expect(headers['webhook-signature']).to.match(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Number(headers['webhook-timestamp']) * 1000).to.be.within(before - 1000, Date.now());
    const envelope = request?.json as { type: string; timestamp: string; data: unknown };
    expect(envelope.type).to.equal('skypay.payout.failure');
    expect(envelope.timestamp).to.equal(event.receivedAt);
    expect(envelope.data).to.deep.equal(event);
    expectNoSecret(request?.body ?? '');
    expectNoSecret(JSON.stringify(request?.headers));
  });

  it('keeps webhook-id across attempts and signs each attempt afresh', async () => {
    const request = buildDeliveryRequest(buildRejectionEvent(), { deliveryId: 'dlv_twice' });
    await webhook.send(request);
    await webhook.send({ ...request, attempt: 2 });
    const [first, second] = await receiver.waitFor(2);
    expect(first?.headers['webhook-id']).to.equal('dlv_twice');
    expect(second?.headers['webhook-id']).to.equal('dlv_twice');
    for (const r of [first, second])
      expect(() => new Webhook(SECRET).verify(r?.body ?? '', flatten(r?.headers ?? {}))).not.to.throw();
    expect((first?.json as { type: string }).type).to.equal('skyrelay.rejection');
  });

  it('never lets configured headers replace the signature headers', async () => {
    const forged = createWebhook({
      headers: { 'Webhook-Id': 'forged', 'webhook-signature': 'v1,forged', 'Content-Type': 'text/plain' },
    });
    await forged.send(buildDeliveryRequest(buildPayoutEvent(), { deliveryId: 'dlv_real' }));
    const [request] = await receiver.waitFor(1);
    expect(request?.headers).to.include({ 'webhook-id': 'dlv_real', 'content-type': 'application/json' });
    expect(() => new Webhook(SECRET).verify(request?.body ?? '', flatten(request?.headers ?? {}))).not.to.throw();
  });

  it('records only the first bytes of a long answer', async () => {
    receiver.respondWith(replies.ok('x'.repeat(100_000)));
    const result = await webhook.send(buildDeliveryRequest(buildPayoutEvent()));
    expect(result.response).to.equal('x'.repeat(RESPONSE_SNIPPET_BYTES));
  });

  it('turns 429 into a retryable error carrying Retry-After', async () => {
    receiver.respondWith(replies.rateLimited('12', 'slow down'));
    const error = await catchDeliveryError(webhook.send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error)
      .to.be.instanceOf(RetryableDeliveryError)
      .and.include({ status: 429, retryAfterMs: 12_000, response: 'slow down' });
    expect(error.message).to.equal('Webhook destination ops-hook: HTTP 429 slow down');
  });

  it('retries 503 and 408', async () => {
    receiver.respondOnce(replies.unavailable(), replies.status(408));
    for (const status of [503, 408]) {
      const error = await catchDeliveryError(webhook.send(buildDeliveryRequest(buildPayoutEvent())));
      expect(error, String(status)).to.be.instanceOf(RetryableDeliveryError).and.include({ status });
    }
  });

  it('gives up on 400 and 401', async () => {
    receiver.respondOnce(replies.badRequest('bad envelope'), replies.status(401, 'who are you'));
    for (const status of [400, 401]) {
      const error = await catchDeliveryError(webhook.send(buildDeliveryRequest(buildPayoutEvent())));
      expect(error, String(status)).to.be.instanceOf(PermanentDeliveryError).and.include({ status });
    }
  });

  it('does not follow redirects', async () => {
    receiver.respondWith(replies.status(307, '', { location: `${receiver.url}/moved` }));
    const error = await catchDeliveryError(webhook.send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error).to.be.instanceOf(PermanentDeliveryError).and.include({ status: 307 });
    expect(receiver.requests.map((r) => r.url)).to.deep.equal(['/hooks/skyrelay']);
  });

  it('gives up on a receiver that never answers at timeoutMs, as retryable', async () => {
    receiver.respondWith(replies.hang());
    const started = performance.now();
    const error = await catchDeliveryError(webhook.send(buildDeliveryRequest(buildPayoutEvent())));
    expect(performance.now() - started).to.be.within(TIMEOUT_MS - 50, TIMEOUT_MS + 1000);
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(error.message).to.equal(`Webhook destination ops-hook: timed out: no answer within ${TIMEOUT_MS} ms`);
  });

  it('gives up on a body that never ends at timeoutMs', async () => {
    receiver.respondWith(replies.stallBody(200));
    const started = performance.now();
    const error = await catchDeliveryError(webhook.send(buildDeliveryRequest(buildPayoutEvent())));
    expect(performance.now() - started).to.be.below(TIMEOUT_MS + 1000);
    expect(error).to.be.instanceOf(RetryableDeliveryError);
  });

  it('gives up at timeoutMs on a body that trickles in, a byte at a time', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const drip = setInterval(() => res.write('A'), 20);
      res.on('close', () => clearInterval(drip));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const trickled = createWebhook({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
    try {
      const error = await catchDeliveryError(trickled.send(buildDeliveryRequest(buildPayoutEvent())));
      expect(error).to.be.instanceOf(RetryableDeliveryError);
      expect(error.message).to.equal(`Webhook destination ops-hook: timed out: no answer within ${TIMEOUT_MS} ms`);
    } finally {
      await trickled.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('stops reading an answer that never ends past 64 KB, and keeps its first bytes', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const flood = setInterval(() => res.write('y'.repeat(16 * 1024)), 5);
      res.on('close', () => clearInterval(flood));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const flooded = createWebhook({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
    try {
      // Never finished by the receiver, so only a stop at the read limit answers (a timeout would be an error).
      expect(await flooded.send(buildDeliveryRequest(buildPayoutEvent()))).to.deep.equal({
        status: 200,
        response: 'y'.repeat(RESPONSE_SNIPPET_BYTES),
      });
    } finally {
      await flooded.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('stops when the worker aborts the attempt', async () => {
    receiver.respondWith(replies.hang());
    const controller = new AbortController();
    const sending = webhook.send(buildDeliveryRequest(buildPayoutEvent(), { signal: controller.signal }));
    await receiver.waitFor(1);
    // The worker may abort with any reason, e.g. on a hard stop.
    controller.abort(new Error('daemon stopping'));
    const error = await catchDeliveryError(sending);
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(error.message).to.equal('Webhook destination ops-hook: the attempt was aborted');
  });

  it('retries a refused connection, naming neither URL nor secret', async () => {
    const refusedUrl = `${await getRefusedUrl()}/hooks/token-in-path-abc123`;
    const refused = createWebhook({ url: refusedUrl });
    const error = await catchDeliveryError(refused.send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(error.message).to.equal('Webhook destination ops-hook: the request failed (ECONNREFUSED)');
    const dump = dumpError(error);
    expectNoSecret(dump);
    expect(dump).not.to.include('token-in-path-abc123');
  });

  it('sends one attempt after another over one pooled keep-alive connection', async () => {
    const connections: string[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    server.on('connection', (socket: Socket) => {
      connections.push(`${socket.remotePort}`);
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const pooled = createWebhook({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
    try {
      for (let i = 0; i < 3; i++) {
        expect(await pooled.send(buildDeliveryRequest(buildPayoutEvent()))).to.deep.equal({
          status: 200,
          response: 'ok',
        });
        // As the worker does: the attempt is recorded (a commit, a later turn) before the next send starts.
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(connections).to.have.length(1);
    } finally {
      await pooled.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('scrubs the secret if a receiver echoes it back', async () => {
    receiver.respondWith(replies.badRequest(`bad signature, expected key ${SECRET}`));
    const error = await catchDeliveryError(webhook.send(buildDeliveryRequest(buildPayoutEvent())));
    expectNoSecret(dumpError(error));
    expect(error.response).to.equal('bad signature, expected key [redacted]');
  });
});
