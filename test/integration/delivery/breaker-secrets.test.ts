import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';

/**
 * destination.unhealthy quotes the destination's last errors, which quote what its receiver answered, and receivers
 * echo what they were sent: the secret parts of their URL and even the signing secret. None of it may reach the
 * alert (another destination, maybe a Slack channel), the breaker's row (the listings), or the log.
 */
const DOWN_KEY = Buffer.from('breaker-secrets-down-signing-key').toString('base64');
const GONE_KEY = Buffer.from('breaker-secrets-gone-signing-key').toString('base64');
const OPS_SECRET = `whsec_${Buffer.from('breaker-secrets-ops-signing-key1').toString('base64')}`;
const DOWN_PATH = '/in/DownPathSecret4242?token=DownQueryToken5151';
const GONE_PATH = '/hooks/GonePathSecret6363';
const SECRET_PARTS = [
  'DownPathSecret4242',
  'DownQueryToken5151',
  'GonePathSecret6363',
  DOWN_KEY,
  GONE_KEY,
  `whsec_${DOWN_KEY}`,
  `whsec_${GONE_KEY}`,
];

/** A receiver quoting the URL it was called on and the signing secret it was configured with, as a careless one does. */
const quoting =
  (key: string) =>
  (request: RecordedRequest): string =>
    `cannot take ${request.url}: expected signature with whsec_${key} (key ${key}); last segment ${
      new URL(request.url, 'http://receiver').pathname.split('/').pop() ?? ''
    }; token ${new URL(request.url, 'http://receiver').searchParams.get('token') ?? ''}`;

interface Alert {
  raw: string;
  data: Record<string, unknown>;
}

describe('breaker: no secret a receiver echoes reaches destination.unhealthy (real daemon, quoting receivers)', function () {
  this.timeout(20_000);
  let t: TestDaemon;
  let down: Receiver;
  let gone: Receiver;
  let ops: Receiver;

  before(async () => {
    [down, gone, ops] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    down.respondWith(replies.echo(503, quoting(DOWN_KEY)));
    gone.respondWith(replies.echo(410, quoting(GONE_KEY)));
    t = await startTestDaemon({
      destinations: {
        down: {
          type: 'webhook',
          url: `${down.url}${DOWN_PATH}`,
          secret: `whsec_${DOWN_KEY}`,
          breaker: { failures: 2, probeIntervalMs: 60_000 },
        },
        gone: { type: 'webhook', url: `${gone.url}${GONE_PATH}`, secret: `whsec_${GONE_KEY}` },
        ops: { type: 'webhook', url: `${ops.url}/ops`, secret: OPS_SECRET, breaker: false },
      },
      rules: [
        { name: 'feed', to: ['down', 'gone'] },
        { name: 'health', match: { type: 'destination.unhealthy' }, to: ['ops'] },
      ],
      delivery: { pollIntervalMs: 100, initialBackoffMs: 50, maxBackoffMs: 100, maxAttempts: 10 },
    });
  });
  after(async () => {
    await t.stop();
    await Promise.all([down.close(), gone.close(), ops.close()]);
  });

  it('scrubs them from the alert, the breaker’s kept errors and the log, and says what happened', async () => {
    const res = await postCallback(t.callbackUrl, buildCallback({ payType: '2' }));
    expect(res.json?.['responseCode']).to.equal('1000');
    const alerts: Alert[] = (await ops.waitFor(2, 10_000)).map((r) => ({
      raw: r.body,
      data: (r.json as { data: { data: Record<string, unknown> } }).data.data,
    }));
    // The receivers did echo them: a leak would show.
    expect(down.requests[0]?.url).to.equal(DOWN_PATH);
    expect(down.requests).to.have.length(2);
    expect(gone.requests).to.have.length(1);

    const byDestination = new Map(alerts.map((a) => [String(a.data['destination']), a]));
    expect(byDestination.get('down')?.data).to.include({ state: 'open' });
    expect(byDestination.get('gone')?.data).to.include({ state: 'paused' });
    const breakers = await t.daemon.store.readBreakers();
    const places: Record<string, string> = {
      'the down alert': byDestination.get('down')?.raw ?? '',
      'the gone alert': byDestination.get('gone')?.raw ?? '',
      'the breakers': JSON.stringify(breakers),
      'the log': t.logs.join(''),
    };
    for (const [place, text] of Object.entries(places)) {
      expect(text, place).not.to.equal('');
      for (const part of SECRET_PARTS) expect(text, `${part} in ${place}`).not.to.include(part);
    }
    // What was not secret stays readable.
    const downErrors = String(byDestination.get('down')?.data['lastErrors']).split('\n');
    expect(downErrors).to.have.length(2);
    for (const e of downErrors) expect(e).to.match(/^Webhook destination down: HTTP 503 cannot take \[redacted\]/);
    expect(String(byDestination.get('gone')?.data['lastErrors'])).to.match(
      /^Webhook destination gone: HTTP 410 cannot take \[redacted\]/,
    );
    expect(breakers.map((b) => [b.destination, b.state, b.lastErrors.length])).to.deep.equal([
      ['down', 'open', 2],
      ['gone', 'paused', 1],
    ]);
  });
});
