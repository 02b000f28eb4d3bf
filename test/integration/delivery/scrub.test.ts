import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { ALL, withStore } from '../../support/store';
import { replies, startReceiver, type RecordedRequest, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';

const SECRET = `whsec_${Buffer.from('scrub-test-signing-secret-00001').toString('base64')}`;
const SLACK_PATH = '/services/T0LEAKYTEAM/B0LEAKYBOT/xoxLeakyHookToken42';
const SLACK_QUERY = '?channel=opsalerts1&sig=Query%2BSecret%2FValue77';
const LEDGER_PATH = '/in/LedgerPathSecret99';
const LEDGER_QUERY = '?token=LedgerQueryToken55&v=1';
// Every path segment and query value of 8 characters or more, as configured and as the receiver decodes them.
const URL_PARTS = [
  'services',
  'T0LEAKYTEAM',
  'B0LEAKYBOT',
  'xoxLeakyHookToken42',
  'opsalerts1',
  'Query%2BSecret%2FValue77',
  'Query+Secret/Value77',
  'LedgerPathSecret99',
  'LedgerQueryToken55',
];

/** A receiver that quotes every part of the URL it was called on, one by one, as real ones do in 404s. */
function quoteUrl(request: RecordedRequest): string {
  const url = new URL(request.url, 'http://receiver');
  const segments = url.pathname.split('/').filter(Boolean);
  return (
    `no such hook: ${segments[segments.length - 1] ?? ''} (path ${segments.join(' ')}; query ${url.search.slice(1)}; ` +
    `values ${[...url.searchParams.values()].join(' ')})`
  );
}

/** What `skyrelay show` and GET /admin/events/:id would show of every attempt and every delivery's last error. */
async function readAll(dbPath: string): Promise<{ attempts: string; lastErrors: string }> {
  return withStore(dbPath, async (store) => {
    const events = await store.listEvents({ limit: ALL });
    const details = await Promise.all(events.map((e) => store.getEvent(e.id)));
    const deliveries = details.flatMap((d) => d?.deliveries ?? []);
    return {
      attempts: JSON.stringify(
        deliveries.flatMap((d) => d.attemptLog.map((a) => ({ error: a.error, response: a.response }))),
      ),
      lastErrors: JSON.stringify(deliveries.map((d) => ({ last_error: d.lastError }))),
    };
  });
}

describe("secrets in receivers' answers (real daemon, receivers quoting their URL)", function () {
  this.timeout(10_000);
  let t: TestDaemon;
  let slack: Receiver;
  let ledger: Receiver;
  let ops: Receiver;

  before(async () => {
    [slack, ledger, ops] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    slack.respondWith(replies.echo(404, quoteUrl));
    ledger.respondWith(replies.echo(400, quoteUrl));
    t = await startTestDaemon({
      destinations: {
        slack: { type: 'slack', url: `${slack.url}${SLACK_PATH}${SLACK_QUERY}` },
        ledger: { type: 'webhook', url: `${ledger.url}${LEDGER_PATH}${LEDGER_QUERY}`, secret: SECRET },
        ops: { type: 'webhook', url: `${ops.url}/alerts`, secret: SECRET },
      },
      rules: [
        { name: 'failures', match: { status: 'failure' }, to: ['slack', 'ledger'] },
        { name: 'dead', match: { type: 'delivery.dead' }, to: ['ops'] },
      ],
      delivery: { pollIntervalMs: 100 },
    });
  });
  after(async () => {
    await t.stop();
    await Promise.all([slack.close(), ledger.close(), ops.close()]);
  });

  it('keeps every URL part of 8+ characters out of stored attempts, last errors, logs and delivery.dead alerts', async () => {
    const res = await postCallback(t.callbackUrl, buildCallback({ payType: '4', failDescription: 'Account closed' }));
    expect(res.json?.['responseCode']).to.equal('1000');
    const alerts = await ops.waitFor(2);
    await waitUntil(
      () => t.logs.filter((l) => l.includes('"msg":"delivery attempt"')).length >= 3,
      'the attempts to be logged',
    );
    // The receivers did quote them: the test would see a leak.
    expect(slack.requests[0]?.url).to.equal(`${SLACK_PATH}${SLACK_QUERY}`);
    const { attempts, lastErrors } = await readAll(t.dbPath);
    const places = { attempts, lastErrors, logs: t.logs.join(''), alerts: alerts.map((a) => a.body).join('\n') };
    for (const [place, text] of Object.entries(places)) {
      for (const part of URL_PARTS) expect(text, `${part} in ${place}`).not.to.include(part);
    }
    // What was not secret stays readable.
    expect(attempts).to.include('no such hook: [redacted] (path [redacted]');
    const dead = alerts.map((a) => (a.json as { data: { data: Record<string, unknown> } }).data.data);
    expect(dead.map((d) => d['destination']).sort()).to.deep.equal(['ledger', 'slack']);
    expect(String(dead.find((d) => d['destination'] === 'slack')?.['lastError'])).to.match(
      /HTTP 404 no such hook: \[redacted\]/,
    );
  });
});
