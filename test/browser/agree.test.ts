import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { describeBrowser, launchBrowser, signInToDashboard, type TestBrowser } from '../support/browser';
import { startTestDaemon, waitUntil, type TestDaemon } from '../support/daemon';
import { replies, startReceiver, type Receiver } from '../support/receiver';
import { buildCallback, dealTimeFromNow, nextControlNumber, postCallback } from '../support/skypay';

const TOKEN = 'dashboard-agree-browser-token-0001';
const SECRET = `whsec_${Buffer.from('dashboard-agree-browser-secret01').toString('base64')}`;
const squeeze = (text: string | null): string => (text ?? '').replace(/\s+/g, ' ').trim();

/** The dashboard shows what the admin API and `skyrelay show` show, in words that cannot be misread. */
describeBrowser('dashboard in Chromium: says what the admin API and the CLI say', function () {
  this.timeout(60_000);
  let t: TestDaemon;
  let slack: Receiver;
  let hook: Receiver;
  let other: Receiver;
  let browser: TestBrowser;
  let page: Page;

  before(async () => {
    [slack, hook, other] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    t = await startTestDaemon({
      admin: { token: TOKEN },
      destinations: {
        // Failures go to Slack in groups, one message per window: an event's route there is a group membership.
        'ops-slack': {
          type: 'slack',
          url: `${slack.url}/services/T0/B0/agree`,
          group: { waitMs: 200, intervalMs: 60_000 },
        },
        hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET },
        other: { type: 'webhook', url: `${other.url}/in`, secret: SECRET },
      },
      rules: [
        { name: 'problems', match: { payType: 'failure' }, to: ['ops-slack'] },
        { name: 'feed', match: { partner: 'AppName@skypay' }, to: ['hook'] },
        { name: 'cancellations', match: { payType: 'cancel' }, to: ['other'] },
      ],
      delivery: { pollIntervalMs: 100, initialBackoffMs: 100, maxAttempts: 3 },
    });
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await Promise.all([slack?.close(), hook?.close(), other?.close()]);
  });
  beforeEach(async () => {
    hook.respondWith(replies.ok());
    await browser.context.clearCookies();
  });

  const signIn = (): Promise<void> => signInToDashboard(page, t.baseUrl, TOKEN);

  /** Posts a callback; resolves with its event id once `done` holds for its detail. */
  async function callback(
    overrides: Record<string, unknown>,
    done: (detail: Awaited<ReturnType<TestDaemon['daemon']['store']['getEvent']>>) => boolean,
  ): Promise<string> {
    const body = buildCallback({ dealTime: dealTimeFromNow(), ...overrides });
    const res = await postCallback(t.callbackUrl, body);
    expect(res.json?.['responseCode'], res.text).to.equal('1000');
    let id = '';
    await waitUntil(
      async () => {
        const [e] = await t.daemon.store.listEvents({ controlNumber: String(body['controlNumber']), limit: 1 });
        id = e?.id ?? '';
        return e !== undefined && done(await t.daemon.store.getEvent(id));
      },
      `${String(body['controlNumber'])} stored and done`,
    );
    return id;
  }
  const finished = (detail: Awaited<ReturnType<TestDaemon['daemon']['store']['getEvent']>>): boolean =>
    detail !== undefined &&
    detail.deliveries.every((d) => d.state === 'delivered' || d.state === 'dead') &&
    detail.groups.every((g) => g.state === 'delivered');

  it("shows a failure's grouped Slack route on the event page, as the admin API does, and its status on the payout page", async () => {
    const controlNumber = nextControlNumber();
    const id = await callback({ controlNumber, payType: '4' }, finished);
    const res = await fetch(`${t.baseUrl}/admin/events/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const api = (await res.json()) as {
      deliveries: { destination: string }[];
      groups: { destination: string; messageEventId: string }[];
    };
    expect(api.groups.map((g) => g.destination)).to.deep.equal(['ops-slack']);
    await signIn();
    await page.goto(`${t.baseUrl}/ui/events/${id}`);
    const shown = await page.locator('article.delivery h3').allTextContents();
    const routes = [...api.deliveries, ...api.groups].map((r) => r.destination).sort();
    expect(shown.map((h) => squeeze(h).split(' ')[0]).sort()).to.deep.equal(routes);
    const grouped = squeeze(await page.getByTestId('grouped-ops-slack').textContent());
    expect(grouped).to.contain(`carried by group message ${api.groups[0]?.messageEventId ?? '?'}`);
    expect(grouped).to.contain('rules problems');

    // The payout page lists the same route, under the status it went out for (not the event's id).
    await page.getByTestId('payout-link').click();
    await page.getByRole('heading', { name: `Payout ${controlNumber}` }).waitFor();
    const row = page.locator('tr', { has: page.locator('td', { hasText: /^ops-slack$/ }) });
    expect(squeeze(await row.locator('td').first().textContent())).to.equal('failure');
  });

  it('numbers the attempts of a replayed delivery through, and counts them all', async () => {
    hook.respondWith(replies.badRequest('no such account'));
    const id = await callback({ payType: '2' }, finished);
    hook.respondWith(replies.ok());
    await signIn();
    await page.goto(`${t.baseUrl}/ui/events/${id}`);
    await page.getByRole('button', { name: 'Replay delivery to hook' }).click();
    await page.getByRole('status').filter({ hasText: '1 requeued' }).waitFor();
    await waitUntil(async () => {
      await page.reload();
      return (await page.locator('tr.attempt').count()) === 2;
    }, 'the second attempt on the page');
    const numbers = await page.locator('tr.attempt td:first-child').allTextContents();
    expect(numbers.map(squeeze)).to.deep.equal(['1', '2 (replayed)']);
    expect(squeeze(await page.locator('article.delivery .meta').textContent())).to.contain(
      '2 attempts, 1 since it was last replayed',
    );
  });

  it('says when a later attempt got past the last error on the destinations page', async () => {
    // hook: a 503, then delivered on the retry; other: delivered, then refused (its error is the latest word).
    hook.respondOnce(replies.unavailable('try later'));
    other.respondOnce(replies.ok());
    other.respondWith(replies.badRequest('account closed'));
    await callback({ payType: '3' }, finished);
    await callback({ payType: '3' }, finished);
    const store = t.daemon.store;
    await waitUntil(async () => {
      const activity = await store.readDestinationActivity();
      const of = (name: string) => activity.find((a) => a.destination === name);
      return of('hook')?.lastErrorAt != null && of('other')?.lastErrorAt != null;
    }, 'an error on record for both');
    await signIn();
    await page.getByRole('link', { name: 'Destinations' }).click();
    const hookRow = page.locator('tr', { has: page.getByRole('rowheader', { name: 'hook', exact: true }) });
    expect(squeeze(await hookRow.textContent())).to.contain('HTTP 503');
    expect(squeeze(await page.getByTestId('recovered-hook').textContent())).to.contain('a later attempt succeeded');
    const otherRow = page.locator('tr', { has: page.getByRole('rowheader', { name: 'other', exact: true }) });
    expect(squeeze(await otherRow.textContent())).to.contain('HTTP 400');
    expect(await page.getByTestId('recovered-other').count()).to.equal(0);
  });

  it("puts the busiest minute's count with the counts, not under the time axis", async () => {
    await signIn();
    const axis = await page.locator('.chart .axis span').allTextContents();
    expect(axis.map(squeeze)).to.deep.equal(['60 min ago', 'now']);
    const busiest = squeeze(await page.locator('.chart figcaption').getByTestId('busiest-minute').textContent());
    expect(busiest).to.match(/^busiest minute \d+ callbacks?$/);
  });

  it('shows examples beside the silence form, never as placeholders that look filled in', async () => {
    await signIn();
    await page.getByRole('link', { name: 'Silences' }).click();
    const form = page.locator('form.silence-form');
    await form.waitFor();
    expect(await form.locator('[placeholder]').count()).to.equal(0);
    for (const label of ['Field 1', 'Value 1', 'Or all matchers as JSON', 'Starts at', 'Or ends at']) {
      const described = await page.getByLabel(label).getAttribute('aria-describedby');
      const hint = page.locator(`#${described ?? 'none'}`);
      expect(await hint.isVisible(), label).to.equal(true);
      expect(squeeze(await hint.textContent()), label).to.match(/^For example: /);
    }
    // Empty fields read empty.
    expect(await page.getByLabel('Field 1').inputValue()).to.equal('');
  });
});
