import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { fingerprint } from '../../src/http/bearer';
import { describeBrowser, launchBrowser, signInToDashboard, type TestBrowser } from '../support/browser';
import { startTestDaemon, waitUntil, type TestDaemon } from '../support/daemon';
import { startReceiver, type Receiver, type RecordedRequest } from '../support/receiver';
import { buildCallback, dealTimeFromNow, postCallback } from '../support/skypay';

const TOKEN = 'destinations-browser-token-0123456789';
const SECRET = `whsec_${Buffer.from('destinations-browser-secret-0001').toString('base64')}`;

const controlNumberOf = (r: RecordedRequest): string | undefined =>
  (r.json as { data?: { controlNumber?: string } } | undefined)?.data?.controlNumber;

describeBrowser('dashboard Destinations page in Chromium', function () {
  this.timeout(60_000);
  let t: TestDaemon;
  let hook: Receiver;
  let witness: Receiver;
  let browser: TestBrowser;
  let page: Page;

  const row = (name: string) => page.locator(`tr[data-destination="${name}"]`);
  /** The row's cells after its name: type, state, backlog, dead, last success, last error, actions. */
  const cell = (name: string, index: number) => row(name).locator('td').nth(index);
  const state = (name: string) => page.getByTestId(`state-${name}`);
  const openPage = async () => {
    await page.goto(`${t.baseUrl}/ui/destinations`);
    await page.getByRole('heading', { name: 'Destinations' }).waitFor();
  };
  const postPayout = async (): Promise<string> => {
    const body = buildCallback({ payType: '2', dealTime: dealTimeFromNow() });
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    return String(body['controlNumber']);
  };

  before(async () => {
    [hook, witness] = await Promise.all([startReceiver(), startReceiver()]);
    t = await startTestDaemon({
      admin: { token: TOKEN },
      destinations: {
        hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET },
        witness: { type: 'webhook', url: `${witness.url}/in`, secret: SECRET },
      },
      rules: [{ name: 'feed', to: ['hook', 'witness'] }],
      delivery: { pollIntervalMs: 100 },
    });
    await postPayout();
    await Promise.all([hook.waitFor(1), witness.waitFor(1)]);
    // Received is not yet recorded: the backlog the page shows is the store's, so wait for both attempts' records.
    await waitUntil(
      async () => (await t.daemon.store.listDeliveries({ state: 'delivered', limit: 10 })).length === 2,
      'both deliveries recorded as delivered',
    );
    browser = await launchBrowser();
    page = browser.page;
    await signInToDashboard(page, t.baseUrl, TOKEN);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await Promise.all([hook?.close(), witness?.close()]);
  });

  it('shows state and backlog; Pause holds sends and says who, Resume sends the backlog', async () => {
    await page.getByRole('link', { name: 'Destinations' }).click();
    await page.getByRole('heading', { name: 'Destinations' }).waitFor();
    expect(await state('hook').innerText()).to.equal('closed');
    expect(await cell('hook', 0).innerText()).to.equal('webhook');
    expect(await cell('hook', 2).innerText()).to.equal('0');

    await page.getByRole('button', { name: 'Pause hook' }).click();
    await page.getByRole('status').getByText('hook paused').waitFor();
    expect(await page.getByRole('status').innerText()).to.contain(
      'hook paused: nothing is sent to it until it is resumed (0 deliveries waiting).',
    );
    expect(await state('hook').innerText()).to.match(
      /^paused\s+paused by dashboard session \S+ \(admin token \S+\), since/,
    );
    expect(await state('witness').innerText()).to.equal('closed');
    const [breaker] = await t.daemon.store.readBreakers();
    expect(breaker).to.include({ destination: 'hook', state: 'paused', reason: 'manual' });
    expect(breaker?.pausedBy).to.match(new RegExp(`^dashboard session \\S+ \\(admin token ${fingerprint(TOKEN)}\\)$`));
    // Only Resume and Send test are offered for a paused destination.
    expect(await row('hook').getByRole('button', { name: 'Pause hook' }).count()).to.equal(0);

    const sent = [await postPayout(), await postPayout()];
    await witness.waitFor(3);
    await openPage();
    expect(await cell('hook', 2).innerText()).to.equal('2');
    expect(await cell('witness', 2).innerText()).to.equal('0');
    expect(hook.requests, 'sends to a paused destination').to.have.length(1);

    await row('hook').getByRole('button', { name: 'Resume hook' }).click();
    await page.getByRole('status').getByText('hook resumed').waitFor();
    expect(await page.getByRole('status').innerText()).to.contain('hook resumed: 2 deliveries waiting');
    expect(await state('hook').innerText()).to.equal('closed');
    await hook.waitFor((rs) => sent.every((cn) => rs.some((r) => controlNumberOf(r) === cn)), 10_000);
    await waitUntil(async () => {
      await openPage();
      return (await cell('hook', 2).innerText()) === '0';
    }, 'the page to show no backlog');
    expect(await state('hook').innerText()).to.equal('closed');
  });

  it('refuses a pause without the page’s CSRF token, takes it with the token, and says 404 for an unknown name', async () => {
    await openPage();
    const token = await row('hook').locator('input[name="_csrf"]').first().inputValue();
    const post = (path: string, form: Record<string, string>) =>
      page.evaluate(
        async ([url, body]) => {
          const res = await fetch(url, { method: 'POST', body: new URLSearchParams(body), redirect: 'manual' });
          return { status: res.status, text: await res.text() };
        },
        [`${t.baseUrl}${path}`, form] as const,
      );
    expect((await post('/ui/destinations/hook/pause', {})).status).to.equal(403);
    expect((await post('/ui/destinations/hook/pause', { _csrf: `${token.slice(0, -2)}xx` })).status).to.equal(403);
    expect(await t.daemon.store.readBreakers()).to.satisfy((rows: { state: string }[]) =>
      rows.every((r) => r.state === 'closed'),
    );
    const unknown = await post('/ui/destinations/nope/pause', { _csrf: token });
    expect(unknown.status).to.equal(404);
    expect(unknown.text).to.contain('no destination &#34;nope&#34; (configured: hook, witness)');
    const closed = await post('/ui/destinations/hook/resume', { _csrf: token });
    expect(closed.status).to.equal(409);
    expect(closed.text).to.contain('is not paused or open: nothing to resume');

    expect((await post('/ui/destinations/hook/pause', { _csrf: token })).status).to.equal(200);
    await openPage();
    expect(await state('hook').innerText()).to.match(/^paused/);
    const waiting = await postPayout();
    await witness.waitFor((rs) => rs.some((r) => controlNumberOf(r) === waiting));
    await row('hook').getByRole('button', { name: 'Resume hook' }).click();
    await page.getByRole('status').getByText('hook resumed').waitFor();
    expect(await page.getByRole('status').innerText()).to.contain(
      'hook resumed: 1 delivery waiting goes out oldest first.',
    );
    expect(await state('hook').innerText()).to.equal('closed');
    await hook.waitFor((rs) => rs.some((r) => controlNumberOf(r) === waiting));
  });
});
