import { expect } from 'chai';
import { createSlackDestination } from '../../../src/destinations/slack';
import { PermanentDeliveryError, RetryableDeliveryError } from '../../../src/destinations/types';
import type { Destination } from '../../../src/destinations/types';
import { catchDeliveryError, dumpError } from '../../support/delivery-errors';
import { buildDeliveryRequest, buildPayoutEvent, buildRejectionEvent } from '../../support/fixtures';
import { getRefusedUrl, replies, startReceiver } from '../../support/receiver';
import type { Receiver } from '../../support/receiver';

const HOOK_PATH = '/services/T0SKYRELAY/B0SKYRELAY/hookSecretXYZ123';
const TIMEOUT_MS = 300;

describe('Slack destination (real HTTP receiver)', () => {
  let receiver: Receiver;
  let slack: Destination;

  beforeEach(async () => {
    receiver = await startReceiver();
    slack = createSlackDestination(
      'ops-slack',
      { type: 'slack', url: `${receiver.url}${HOOK_PATH}` },
      { timeoutMs: TIMEOUT_MS },
    );
  });

  afterEach(async () => {
    await slack.close();
    await receiver.close();
  });

  function expectNoHookSecret(text: string): void {
    expect(text).not.to.include('hookSecretXYZ123');
    expect(text).not.to.include(HOOK_PATH);
  }

  it('posts a Block Kit message a person can read at a glance', async () => {
    const result = await slack.send(buildDeliveryRequest(buildPayoutEvent(), { deliveryId: 'dlv_slack_1' }));
    expect(result).to.deep.equal({ status: 200, response: 'ok' });

    const [request] = await receiver.waitFor(1);
    expect(request?.method).to.equal('POST');
    expect(request?.url).to.equal(HOOK_PATH);
    expect(request?.headers['content-type']).to.equal('application/json');
    expect(request?.json).to.deep.equal({
      text: 'Payout failed — SK99123456789 (failure): Beneficiary account closed &amp; "frozen"',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Payout failed' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Control number*\nSK99123456789' },
            { type: 'mrkdwn', text: '*Partner*\nACME Remit &lt;PH&gt;' },
            { type: 'mrkdwn', text: '*Deal time*\n2018-08-07 11:58:33 GMT+8' },
            { type: 'mrkdwn', text: '*Reference number*\nREF-2018-0807-001' },
            { type: 'mrkdwn', text: '*Failure description*\nBeneficiary account closed &amp; "frozen"' },
          ],
        },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: 'Event evt_01J8Z6Q3K2M4N5P6R7S8T9V0W1 · Delivery dlv_slack_1' }],
        },
      ],
    });
  });

  it('posts system events with their facts as fields', async () => {
    await slack.send(buildDeliveryRequest(buildRejectionEvent()));
    const [request] = await receiver.waitFor(1);
    const body = JSON.stringify(request?.json);
    expect(body).to.include('"text":"skyrelay refused a callback"');
    expect(body).to.include('*reason*\\nauthentication key mismatch');
  });

  it('turns 429 into a retryable error carrying Retry-After (seconds)', async () => {
    receiver.respondWith(replies.rateLimited('7'));
    const error = await catchDeliveryError(slack.send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(error).to.include({ status: 429, retryAfterMs: 7000, response: 'rate_limited' });
  });

  it('reads a Retry-After HTTP date too', async () => {
    receiver.respondWith(replies.rateLimited(new Date(Date.now() + 60_000).toUTCString()));
    const error = await catchDeliveryError(slack.send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error.retryAfterMs).to.be.within(55_000, 60_000);
  });

  it('retries 503 and 408', async () => {
    receiver.respondOnce(replies.unavailable(), replies.status(408));
    for (const status of [503, 408]) {
      const error = await catchDeliveryError(slack.send(buildDeliveryRequest(buildPayoutEvent())));
      expect(error, String(status)).to.be.instanceOf(RetryableDeliveryError).and.include({ status });
    }
  });

  for (const [status, body] of [
    [400, 'invalid_token'],
    [404, 'no_service'],
    [404, 'channel_not_found'],
    [400, 'invalid_payload'],
    [403, 'action_prohibited'],
    [410, 'channel_is_archived'],
  ] as const) {
    it(`gives up on ${status} ${body}, quoting Slack's reason`, async () => {
      receiver.respondWith(replies.status(status, body));
      const error = await catchDeliveryError(slack.send(buildDeliveryRequest(buildPayoutEvent())));
      expect(error).to.be.instanceOf(PermanentDeliveryError).and.include({ status, response: body });
      expect(error.message).to.equal(`Slack destination ops-slack: HTTP ${status} ${body}`);
      expectNoHookSecret(dumpError(error));
    });
  }

  it('does not follow redirects: a moved hook is a config problem', async () => {
    receiver.respondWith(replies.status(302, '', { location: `${receiver.url}/elsewhere` }));
    const error = await catchDeliveryError(slack.send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error).to.be.instanceOf(PermanentDeliveryError).and.include({ status: 302 });
    expect(receiver.requests).to.have.length(1);
  });

  it('gives up on a receiver that never answers at timeoutMs, as retryable', async () => {
    receiver.respondWith(replies.hang());
    const started = performance.now();
    const error = await catchDeliveryError(slack.send(buildDeliveryRequest(buildPayoutEvent())));
    const elapsed = performance.now() - started;
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(error.message).to.equal(`Slack destination ops-slack: timed out: no answer within ${TIMEOUT_MS} ms`);
    expect(elapsed).to.be.within(TIMEOUT_MS - 50, TIMEOUT_MS + 1000);
    expectNoHookSecret(dumpError(error));
  });

  it('gives up on a body that never ends at timeoutMs', async () => {
    receiver.respondWith(replies.stallBody(500));
    const started = performance.now();
    const error = await catchDeliveryError(slack.send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(performance.now() - started).to.be.below(TIMEOUT_MS + 1000);
  });

  it('stops when the worker aborts the attempt', async () => {
    receiver.respondWith(replies.hang());
    const controller = new AbortController();
    const sending = slack.send(buildDeliveryRequest(buildPayoutEvent(), { signal: controller.signal }));
    await receiver.waitFor(1);
    controller.abort();
    const error = await catchDeliveryError(sending);
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(error.message).to.equal('Slack destination ops-slack: the attempt was aborted');
  });

  it('retries when the connection is refused, without naming the hook URL', async () => {
    const refused = createSlackDestination(
      'ops-slack',
      { type: 'slack', url: `${await getRefusedUrl()}${HOOK_PATH}` },
      { timeoutMs: TIMEOUT_MS },
    );
    const error = await catchDeliveryError(refused.send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(error.message).to.equal('Slack destination ops-slack: the request failed (ECONNREFUSED)');
    expectNoHookSecret(dumpError(error));
  });

  it('scrubs the hook URL if a receiver echoes it', async () => {
    receiver.respondWith(replies.status(400, `invalid_token for ${receiver.url}${HOOK_PATH}`));
    const error = await catchDeliveryError(slack.send(buildDeliveryRequest(buildPayoutEvent())));
    expectNoHookSecret(dumpError(error));
    expect(error.response).to.include('[redacted]');
  });
});
