import { scrubSecrets } from '../../../src/scrub';
import { expect } from 'chai';
import { isPermanentSmtpCode } from '../../../src/destinations/email';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createAttemptSignal, raceAbort } from '../../../src/destinations/attempt-signal';
import { describeRequestFailure } from '../../../src/destinations/request-failure';
import { getUserAgent } from '../../../src/destinations/user-agent';
import { readBodySnippet } from '../../../src/destinations/snippet';
import { collectSecrets, secretsOfDestinations, secretsOfUrl, toSafeCause } from '../../../src/destinations/secrets';

describe('readBodySnippet', () => {
  it('reads at most the limit and stops pulling', async () => {
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(100).fill(0x61));
      },
    });
    const text = await readBodySnippet(new Response(body), 250);
    expect(text).to.equal('a'.repeat(250));
    expect(pulls).to.be.lessThan(6);
  });

  it('reads an empty body as empty text', async () => {
    expect(await readBodySnippet(new Response(null), 10)).to.equal('');
  });
});

describe('createAttemptSignal', () => {
  function waitForAbort(signal: AbortSignal): Promise<{ ms: number; reason: unknown }> {
    const started = performance.now();
    return new Promise((resolve) =>
      signal.addEventListener('abort', () => resolve({ ms: performance.now() - started, reason: signal.reason })),
    );
  }

  it('aborts at timeoutMs with a TimeoutError', async () => {
    const attempt = createAttemptSignal(new AbortController().signal, 100);
    // Not at once: only the deadline aborts it. (How long after by the wall clock says little: a timer counts from
    // the event loop's cached time, which a busy machine leaves stale, so it may fire "early" by that clock.)
    expect(attempt.signal.aborted).to.equal(false);
    const { ms, reason } = await waitForAbort(attempt.signal);
    expect(ms).to.be.below(600);
    expect(reason).to.have.property('name', 'TimeoutError');
  });

  it('still fires when garbage collection runs meanwhile (AbortSignal.any + timeout would not on Node 20)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const collecting = setInterval(gc, 10);
    try {
      const attempts = Array.from({ length: 5 }, () => createAttemptSignal(new AbortController().signal, 150));
      const results = await Promise.all(attempts.map((a) => waitForAbort(a.signal)));
      for (const { ms } of results) expect(ms).to.be.below(700);
    } finally {
      clearInterval(collecting);
    }
  });

  it("forwards the worker's abort and its reason", async () => {
    const worker = new AbortController();
    const attempt = createAttemptSignal(worker.signal, 10_000);
    const aborted = waitForAbort(attempt.signal);
    worker.abort(new Error('stopping'));
    expect((await aborted).reason).to.have.property('message', 'stopping');
    attempt.dispose();
  });

  it('stops its timer once disposed', async () => {
    const attempt = createAttemptSignal(new AbortController().signal, 50);
    attempt.dispose();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(attempt.signal.aborted).to.equal(false);
  });
});

describe('raceAbort', () => {
  it('settles with the abort reason when the work never does', async () => {
    const controller = new AbortController();
    const pending = raceAbort(new Promise<never>(() => undefined), controller.signal);
    controller.abort(new Error('stop'));
    const error: unknown = await pending.catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error).with.property('message', 'stop');
  });

  it('passes the result through otherwise', async () => {
    expect(await raceAbort(Promise.resolve(5), new AbortController().signal)).to.equal(5);
  });
});

describe('describeRequestFailure', () => {
  it('names timeouts, aborts and codes, never the message', () => {
    expect(describeRequestFailure(new DOMException('x', 'TimeoutError'), 300)).to.equal(
      'timed out: no answer within 300 ms',
    );
    expect(describeRequestFailure(new DOMException('x', 'AbortError'), 300)).to.equal('the attempt was aborted');
    const refused = new TypeError('fetch failed https://hooks.slack.com/services/SECRET', {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    expect(describeRequestFailure(refused, 300)).to.equal('the request failed (ECONNREFUSED)');
    expect(describeRequestFailure('weird', 300)).to.equal('the request failed');
  });
});

describe('secrets', () => {
  it('finds the secret parts of a URL', () => {
    const secrets = secretsOfUrl('smtp://relay:p%40ss%20word@mail.example.com:587/x?token=abc123');
    expect(scrubSecrets('login p@ss word failed', secrets)).to.equal('login [redacted] failed');
    expect(scrubSecrets('at /x?token=abc123', secrets)).to.equal('at [redacted]');
  });

  it('finds each path segment and query value of 8+ characters on its own, raw and decoded', () => {
    const secrets = secretsOfUrl(
      'https://hooks.example.com/services/T0TEAM001/B0BOT/xoxHookToken42?sig=a%2Bb%2Fcdefgh&v=1',
    );
    expect(scrubSecrets('no such hook: xoxHookToken42', secrets)).to.equal('no such hook: [redacted]');
    expect(scrubSecrets('team T0TEAM001 bot B0BOT', secrets)).to.equal('team [redacted] bot B0BOT');
    expect(scrubSecrets('sig a+b/cdefgh or a%2Bb%2Fcdefgh, v=1', secrets)).to.equal(
      'sig [redacted] or [redacted], v=1',
    );
  });

  it('collects every secret of a destination: URL parts, signing secret, header values, transport passwords', () => {
    const secret = `whsec_${Buffer.from('helpers-test-signing-secret-01').toString('base64')}`;
    const secrets = secretsOfDestinations({
      hook: {
        type: 'webhook',
        url: 'https://ledger.internal/in/LedgerPath99',
        secret,
        headers: { 'x-api-key': 'ApiKeyValue77', 'x-team': 'ledger' },
      },
      mail: {
        type: 'email',
        transport: { host: 'smtp', auth: { user: 'u', pass: 'MailPass55' } },
        from: 'a@b.c',
        to: ['d@e.f'],
      },
    });
    const text = scrubSecrets(`LedgerPath99 ${secret} ApiKeyValue77 MailPass55 ledger`, secrets);
    expect(text).to.equal('[redacted] [redacted] [redacted] [redacted] ledger');
  });

  it('skips values too short to scrub safely', () => {
    expect(collectSecrets(['abc', '', null, undefined])).to.deep.equal([]);
  });

  it('makes a scrubbed stand-in for a library error and its causes', () => {
    const original = Object.assign(new Error('auth failed for hunter22', { cause: new Error('inner hunter22') }), {
      code: 'EAUTH',
      responseCode: 535,
      config: { pass: 'hunter22' },
    });
    const safe = toSafeCause(original, collectSecrets(['hunter22']));
    expect(safe.message).to.equal('auth failed for [redacted]');
    expect(safe).to.include({ code: 'EAUTH', responseCode: 535 });
    expect((safe.cause as Error).message).to.equal('inner [redacted]');
    expect(JSON.stringify(safe)).not.to.include('hunter22');
    expect(safe.stack).not.to.include('hunter22');
  });
});

describe('getUserAgent', () => {
  it('names skyrelay and its version', () => {
    expect(getUserAgent()).to.match(/^skyrelay\/\d+\.\d+\.\d+/);
  });
});

describe('isPermanentSmtpCode', () => {
  it('gives up on 5xx refusals but retries 4xx and 503 (bad sequence: a new session can pass)', () => {
    for (const code of [550, 551, 552, 553, 554, 535, 500])
      expect(isPermanentSmtpCode(code), String(code)).to.equal(true);
    for (const code of [421, 450, 451, 452, 454, 503]) expect(isPermanentSmtpCode(code), String(code)).to.equal(false);
  });
});
