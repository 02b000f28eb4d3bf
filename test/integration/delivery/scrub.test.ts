import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { ALL, withStore } from '../../support/store';
import { replies, startReceiver, type RecordedRequest, type Receiver } from '../../support/receiver';
import { SAMPLE_AUTH, buildCallback, nextControlNumber, postCallback } from '../../support/skypay';

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

/** The receiver's answer for one callback: `pad` x's, then a secret in one of the forms it can be echoed in. */
interface EchoCase {
  name: string;
  pad: number;
  echoed: string;
}

/** A secret as a receiver may echo it: as is, in either case, and base64 (at each alignment, both alphabets) or hex. */
function echoedForms(secret: string): [name: string, text: string][] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: [string, string][] = [
    ['as is', secret],
    ['lower-case', secret.toLowerCase()],
    ['upper-case', secret.toUpperCase()],
    ['hex', bytes.toString('hex')],
    ['upper-case hex', bytes.toString('hex').toUpperCase()],
  ];
  for (const lead of ['', 'a', 'ab']) {
    // The bytes before the secret in what was encoded decide which of base64's 3 alignments it lands on.
    const encoded = Buffer.concat([Buffer.from(lead), bytes]);
    forms.push([`base64 after ${lead.length} byte(s)`, encoded.toString('base64')]);
    forms.push([`base64url after ${lead.length} byte(s)`, encoded.toString('base64url')]);
  }
  return forms;
}

/**
 * Whether `stored` holds any 6 characters in a row of `echoed`, whatever their case. Runs of digits alone are left
 * out: a hex form holds some, and times, ports and pids in a log line match them by chance.
 */
function findLeak(stored: string, echoed: string): string | undefined {
  const haystack = stored.toLowerCase();
  const needle = echoed.toLowerCase();
  for (let i = 0; i + 6 <= needle.length; i++) {
    const run = needle.slice(i, i + 6);
    if (!/^\d+$/.test(run) && haystack.includes(run)) return run;
  }
  return undefined;
}

describe('secrets a receiver echoes at the 512-byte cut, in any case or encoding (real daemon, echoing receiver)', function () {
  this.timeout(60_000);
  const PATH_TOKEN = 'SecretPathToken0123456789';
  let t: TestDaemon;
  let hook: Receiver;
  const cases = new Map<string, EchoCase>();

  before(async () => {
    hook = await startReceiver();
    hook.respondWith(
      replies.echo(400, (request) => {
        const controlNumber = String((request.json as { data?: { controlNumber?: string } }).data?.controlNumber);
        const c = cases.get(controlNumber);
        return c === undefined ? 'unknown' : `${'x'.repeat(c.pad)}${c.echoed}`;
      }),
    );
    t = await startTestDaemon({
      destinations: { hook: { type: 'webhook', url: `${hook.url}/in/${PATH_TOKEN}`, secret: SECRET } },
      rules: [{ name: 'all', match: { source: 'skypay' }, to: ['hook'] }],
      delivery: { pollIntervalMs: 50 },
    });
  });
  after(async () => {
    await t.stop();
    await hook.close();
  });

  it('keeps no part of the URL token or a partner key in stored answers, errors and logs, and marks the cut', async () => {
    // The destination's own URL token, and a partner key: a secret of skyrelay's the receiver should never have.
    for (const secret of [PATH_TOKEN, SAMPLE_AUTH]) {
      for (const [form, echoed] of echoedForms(secret)) {
        // Well before the cut, ending right at it, crossing it, its first byte the last kept one, and just past it.
        for (const pad of [500 - echoed.length, 500, 512 - echoed.length, 512 - (echoed.length >> 1), 511, 512]) {
          cases.set(nextControlNumber('SKCUT'), { name: `${secret} ${form} after ${pad} x`, pad, echoed });
        }
      }
    }
    for (const controlNumber of cases.keys()) {
      const res = await postCallback(t.callbackUrl, buildCallback({ controlNumber, payType: '4' }));
      expect(res.json?.['responseCode']).to.equal('1000');
    }
    await withStore(t.dbPath, (store) =>
      waitUntil(
        async () => (await store.listDeliveries({ state: 'dead', limit: ALL })).length === cases.size,
        'every delivery to die on its 400',
        30_000,
      ),
    );
    const logs = t.logs.join('');
    await withStore(t.dbPath, async (store) => {
      for (const [controlNumber, c] of cases) {
        const [detail] = await store.findEventsByControlNumber(controlNumber);
        const attempt = detail?.deliveries[0]?.attemptLog[0];
        const response = attempt?.response ?? '';
        expect(Buffer.byteLength(response), c.name).to.be.at.most(512);
        for (const [place, text] of [
          ['response', response],
          ['error', attempt?.error ?? ''],
          ['last error', detail?.deliveries[0]?.lastError ?? ''],
        ] as const) {
          const leak = findLeak(text, c.echoed);
          expect(leak, `${c.name}: "${leak}" in the ${place}: ${text.slice(-40)}`).to.equal(undefined);
        }
        // What came before the secret is kept; a secret begun before the cut leaves its marker at the edge. (An
        // encoded form's first and last characters also carry the bytes around the secret: those may stay.)
        if (c.pad <= 508) expect(response, c.name).to.include('[redacted]');
        if (c.pad === 512) expect(response, c.name).to.equal('x'.repeat(512));
        if (c.pad + c.echoed.length <= 500) {
          expect(response, c.name).to.match(new RegExp(`^x{${c.pad}}.{0,3}\\[redacted\\]`));
        }
      }
    });
    for (const c of cases.values()) expect(findLeak(logs, c.echoed), `${c.name} in the log`).to.equal(undefined);
  });
});
