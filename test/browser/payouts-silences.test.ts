import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { PayoutEvent } from '../../src/event';
import { describeBrowser, launchBrowser, type TestBrowser } from '../support/browser';
import { startTestDaemon, waitUntil, type TestDaemon } from '../support/daemon';
import { replies, startReceiver, type Receiver } from '../support/receiver';
import { buildCallback, dealTimeFromNow, nextControlNumber, postCallback } from '../support/skypay';
import { REPO_ROOT } from '../support/spawn';

const TOKEN = 'payouts-silences-browser-token-01';
const SECRET = `whsec_${Buffer.from('payouts-silences-browser-secret1').toString('base64')}`;
/** Set to take the screenshots in docs/images/ in the same run: SKYRELAY_SCREENSHOTS=1. */
const SCREENSHOTS = process.env['SKYRELAY_SCREENSHOTS'] === '1';
/** Short, so the stuck view has something to show within a test; the check itself runs rarely. */
const STUCK_AFTER_MS = 3_000;
const squeeze = (text: string | null): string => (text ?? '').replace(/\s+/g, ' ').trim();

describeBrowser('dashboard payouts and silences pages in Chromium', function () {
  this.timeout(60_000);
  let t: TestDaemon;
  let slack: Receiver;
  let hook: Receiver;
  let browser: TestBrowser;
  let page: Page;

  before(async () => {
    [slack, hook] = await Promise.all([startReceiver(), startReceiver()]);
    t = await startTestDaemon({
      admin: { token: TOKEN },
      destinations: {
        'ops-slack': { type: 'slack', url: `${slack.url}/services/T0/B0/dashboard` },
        hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET },
      },
      rules: [
        { name: 'problems', match: { payType: 'failure' }, to: ['ops-slack'] },
        { name: 'feed', to: ['hook'] },
      ],
      delivery: { pollIntervalMs: 100, initialBackoffMs: 100, maxAttempts: 2 },
      payouts: { stuckAfterMs: STUCK_AFTER_MS, checkIntervalMs: 3_600_000 },
    });
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await Promise.all([slack?.close(), hook?.close()]);
  });
  beforeEach(async () => {
    await browser.context.clearCookies();
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  async function signIn(): Promise<void> {
    await page.goto(`${t.baseUrl}/ui`);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  }

  /** Posts one status of a payout and waits until its webhook delivery is done; returns the event id. */
  async function status(
    controlNumber: string,
    payType: string,
    offsetMs: number,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const body = buildCallback({ controlNumber, payType, dealTime: dealTimeFromNow(offsetMs), ...extra });
    const res = await postCallback(t.callbackUrl, body);
    expect(res.json?.['responseCode'], res.text).to.equal('1000');
    let id = '';
    await waitUntil(async () => {
      const [detail] = await t.daemon.store.getPayouts(controlNumber);
      const found = detail?.events.find((e) => (e.event as PayoutEvent).dealTime === body['dealTime']);
      id = found?.event.id ?? '';
      return (
        found !== undefined &&
        found.deliveries.length > 0 &&
        found.deliveries.every((d) => d.state === 'delivered' || d.state === 'dead')
      );
    }, `${controlNumber} payType ${payType} stored and delivered`);
    return id;
  }

  /** A paid payout that later gets an amended failure: an after-final anomaly. */
  async function anomalousPayout(): Promise<{ controlNumber: string; ids: string[] }> {
    const controlNumber = nextControlNumber();
    const ids = [
      await status(controlNumber, '1', -60_000),
      await status(controlNumber, '2', -30_000),
      await status(controlNumber, '6', -10_000, { failDescription: 'Beneficiary account closed' }),
    ];
    return { controlNumber, ids };
  }

  it('shows an after-final payout under anomalies, and its timeline on the payout page', async () => {
    const { controlNumber, ids } = await anomalousPayout();
    const calm = nextControlNumber();
    await status(calm, '1', -60_000);
    await status(calm, '2', -30_000);
    await signIn();
    expect(Number(await page.getByTestId('anomalies').textContent())).to.be.greaterThan(0);

    await page.getByRole('link', { name: 'Payouts', exact: true }).click();
    await page.getByRole('heading', { name: 'Payouts', exact: true }).waitFor();
    await page.locator('tr.payout', { hasText: calm }).waitFor();
    await page.getByLabel('Anomalies only').check();
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('heading', { name: 'Payouts with anomalies' }).waitFor();
    const row = page.locator('tr.payout', { hasText: controlNumber });
    expect(await row.count()).to.equal(1);
    expect(await page.locator('tr.payout', { hasText: calm }).count()).to.equal(0);
    // The nav's Anomalies view is the same list.
    await page.getByRole('link', { name: 'Anomalies', exact: true }).click();
    await row.waitFor();
    expect(await page.getByRole('link', { name: 'Anomalies', exact: true }).getAttribute('aria-current')).to.equal(
      'page',
    );

    await row.getByRole('link', { name: controlNumber }).click();
    await page.getByRole('heading', { name: `Payout ${controlNumber}` }).waitFor();
    expect((await page.getByTestId('payout-state').textContent())?.trim()).to.equal('paid (final)');
    const timeline = page.locator('table.timeline tbody tr');
    expect(await timeline.count()).to.equal(3);
    const texts = await timeline.allTextContents();
    expect(texts[0]).to.contain('upload').and.contain('first');
    expect(texts[1]).to.contain('paid').and.contain('forward').and.contain('uploaded → paid');
    expect(texts[2]).to.contain('amendedFailure').and.contain('after-final').and.contain('paid → paid');
    expect(await page.locator('table.timeline tr.anomaly').count()).to.equal(1);
    // Each status links to its event page; the deliveries of all three are listed.
    for (const id of ids) expect(await page.getByRole('link', { name: id }).count()).to.equal(1);
    const deliveries = (await page.locator('.payout-detail').textContent()) ?? '';
    expect(await page.locator('.payout-detail a[href*="#delivery-"]').count()).to.equal(3);
    expect(deliveries).to.contain('hook');
    await page.getByRole('link', { name: ids[2] as string }).click();
    await page.getByRole('heading', { name: `Event ${controlNumber} amendedFailure` }).waitFor();
    expect(await page.getByTestId('payout-link').textContent()).to.contain(controlNumber);
  });

  it('lists open payouts older than payouts.stuckAfterMs in the stuck view, and counts them on the overview', async () => {
    const open = nextControlNumber();
    const done = nextControlNumber();
    await status(open, '1', -60_000);
    await status(done, '1', -60_000);
    await status(done, '2', -30_000);
    await signIn();
    await page.getByRole('link', { name: 'Stuck', exact: true }).click();
    await page.getByRole('heading', { name: 'Stuck payouts' }).waitFor();
    await waitUntil(
      async () => {
        await page.reload();
        return (await page.locator('tr.payout', { hasText: open }).count()) === 1;
      },
      'the uploaded payout to be stuck',
      STUCK_AFTER_MS + 10_000,
    );
    expect(await page.locator('tr.payout', { hasText: done }).count()).to.equal(0);
    await page.goto(`${t.baseUrl}/ui`);
    expect(Number(await page.getByTestId('stuck-payouts').textContent())).to.be.greaterThan(0);
    expect(Number(await page.getByTestId('open-payouts').textContent())).to.be.greaterThan(0);
    // A bad filter is a clear error on the page, not a 500.
    const res = await page.goto(`${t.baseUrl}/ui/payouts?olderThan=soon`);
    expect(res?.status()).to.equal(400);
    expect(await page.getByRole('alert').textContent()).to.contain('older-than: expected a duration');
  });

  it('a silence made on the page holds Slack back and says so on the event; expiring it there lets the next through', async () => {
    await signIn();
    await page.getByRole('link', { name: 'Silences' }).click();
    await page.getByRole('heading', { name: 'Silences', exact: true }).waitFor();
    await page.getByLabel('Field 1').fill('payType');
    await page.getByLabel('Value 1').fill('failure');
    await page.getByLabel('For (30m, 2h, 1d)').fill('2h');
    await page.getByLabel('Created by').fill('alice');
    await page.getByLabel('Comment (why: an outage, a ticket)').fill('channel outage <b>ticket 123</b>');
    await page.getByRole('button', { name: 'Create silence' }).click();
    const made = page.getByRole('status').filter({ hasText: 'created' });
    await made.waitFor();
    const id = ((await made.getByRole('link').textContent()) ?? '').trim();
    expect(id).to.match(/^sil_/);
    const row = page.locator(`tr.silence[data-silence="${id}"]`);
    expect(squeeze(await row.textContent()))
      .to.contain('active')
      .and.contain('payType=failure')
      .and.contain('alice')
      .and.contain('every Slack and email destination');
    // The comment is text, not markup.
    expect(await row.locator('td.comment').textContent()).to.equal('channel outage <b>ticket 123</b>');
    expect(await row.locator('td.comment b').count()).to.equal(0);

    await page.goto(`${t.baseUrl}/ui`);
    expect(Number(await page.getByTestId('active-silences').textContent())).to.be.at.least(1);
    await page.goto(`${t.baseUrl}/ui/silences`);

    const slackBefore = slack.requests.length;
    const held = nextControlNumber();
    const heldId = await status(held, '4', -5_000, { failDescription: 'channel down' });
    // Its webhook delivery is done (not silenced), and Slack got nothing for it.
    expect(slack.requests.slice(slackBefore).some((r) => r.body.includes(held))).to.equal(false);
    await page.goto(`${t.baseUrl}/ui/events/${heldId}`);
    const said = page.getByTestId('silenced-ops-slack');
    expect(squeeze(await said.textContent())).to.contain(`Not sent: silenced by ${id}`);
    await said.getByRole('link', { name: id }).click();
    await page.getByRole('heading', { name: 'Silences', exact: true }).waitFor();
    expect(new URL(page.url()).hash).to.equal(`#silence-${id}`);

    // Expire it from the page without typing a name: the session names who did it, as it named who made it.
    await row.getByRole('button', { name: `Expire silence ${id}` }).click();
    await page.getByRole('status').filter({ hasText: 'expired' }).waitFor();
    const session = /^dashboard session [0-9a-f]{8} \(admin token [0-9a-f]{8}\)$/;
    const [stored] = (await t.daemon.store.listSilences({ limit: 10 })).filter((s) => s.id === id);
    expect(stored).to.deep.include({ createdBy: 'alice', expiredFrom: '127.0.0.1', createdFrom: '127.0.0.1' });
    expect(stored?.expiredBy).to.match(session);
    expect(stored?.expiredVia).to.equal(stored?.expiredBy);
    expect(stored?.createdVia).to.equal(stored?.expiredVia);
    expect(squeeze(await row.textContent()))
      .to.contain('expired')
      .and.contain(`by ${stored?.expiredBy ?? ''}`)
      .and.contain(`via ${stored?.createdVia ?? ''} from 127.0.0.1`);
    expect(await row.getByRole('button').count()).to.equal(0);

    const sent = nextControlNumber();
    await status(sent, '4', -5_000, { failDescription: 'channel down' });
    await slack.waitFor(slackBefore + 1);
    expect(slack.requests.slice(slackBefore).some((r) => r.body.includes(sent))).to.equal(true);
    expect(slack.requests.slice(slackBefore).some((r) => r.body.includes(held))).to.equal(false);
  });

  it('refuses a silence without a comment with a clear error, keeping what was typed', async () => {
    await signIn();
    await page.goto(`${t.baseUrl}/ui/silences`);
    const before = (await t.daemon.store.listSilences({ limit: 1000 })).length;
    await page.getByLabel('Or all matchers as JSON').fill('{"partner": "Acme@skypay"}');
    await page.getByLabel('For (30m, 2h, 1d)').fill('30m');
    await page.getByLabel('Created by').fill('carol');
    await page.getByRole('button', { name: 'Create silence' }).click();
    const alert = page.locator('#create-problems');
    await alert.waitFor();
    expect(await alert.textContent()).to.contain('comment: required');
    expect(await alert.getByRole('listitem').count()).to.equal(1);
    expect(await page.getByLabel('Created by').inputValue()).to.equal('carol');
    expect(await page.getByLabel('Or all matchers as JSON').inputValue()).to.equal('{"partner": "Acme@skypay"}');
    // Bad JSON and a row without a value are named too.
    await page.getByLabel('Or all matchers as JSON').fill('{"partner":');
    await page.getByLabel('Field 1').fill('payType');
    await page.getByLabel('Comment (why: an outage, a ticket)').fill('maintenance');
    await page.getByRole('button', { name: 'Create silence' }).click();
    await alert.waitFor();
    const problems = await alert.getByRole('listitem').allTextContents();
    expect(problems.join('\n')).to.contain('matcher row 1: give both a field and a value');
    expect(problems.join('\n')).to.contain('not valid JSON');
    expect(await t.daemon.store.listSilences({ limit: 1000 })).to.have.length(before);
  });

  it('refuses to create or expire a silence without the page’s CSRF token', async () => {
    await signIn();
    await page.goto(`${t.baseUrl}/ui/silences`);
    const token = await page.locator('input[name="_csrf"]').first().inputValue();
    const before = (await t.daemon.store.listSilences({ limit: 1000 })).length;
    const post = (url: string, form: Record<string, string>) =>
      page.evaluate(
        async ([u, body]) => {
          const res = await fetch(u, { method: 'POST', body: new URLSearchParams(body), redirect: 'manual' });
          return res.status;
        },
        [url, form] as const,
      );
    const silence = {
      matchField: 'payType',
      matchValue: 'failure',
      duration: '1h',
      createdBy: 'mallory',
      comment: 'forged',
    };
    expect(await post(`${t.baseUrl}/ui/silences`, silence)).to.equal(403);
    expect(await post(`${t.baseUrl}/ui/silences`, { ...silence, _csrf: `${token.slice(0, -2)}xx` })).to.equal(403);
    expect(await t.daemon.store.listSilences({ limit: 1000 })).to.have.length(before);
    // With the token the same form makes it; expiring it without the token changes nothing.
    expect(await post(`${t.baseUrl}/ui/silences`, { ...silence, _csrf: token })).to.be.oneOf([0, 303]);
    const [made] = await t.daemon.store.listSilences({ limit: 1 });
    expect(made?.createdBy).to.equal('mallory');
    expect(await post(`${t.baseUrl}/ui/silences/${made?.id ?? ''}/expire`, { expiredBy: 'mallory' })).to.equal(403);
    expect((await t.daemon.store.listSilences({ limit: 1 }))[0]?.expiredBy).to.equal(null);
    expect(
      await post(`${t.baseUrl}/ui/silences/${made?.id ?? ''}/expire`, { expiredBy: 'mallory', _csrf: token }),
    ).to.be.oneOf([0, 303]);
    expect((await t.daemon.store.listSilences({ limit: 1 }))[0]?.expiredBy).to.equal('mallory');
  });

  it('fits a phone: no sideways scrolling of the page on the payouts and silences pages', async () => {
    const { controlNumber } = await anomalousPayout();
    await signIn();
    await page.setViewportSize({ width: 390, height: 844 });
    for (const url of ['/ui/payouts', `/ui/payouts/${controlNumber}`, '/ui/silences']) {
      await page.goto(`${t.baseUrl}${url}`);
      const overflow = await page.evaluate(() => {
        const w = globalThis as unknown as {
          innerWidth: number;
          document: { documentElement: { scrollWidth: number } };
        };
        return w.document.documentElement.scrollWidth - w.innerWidth;
      });
      expect(overflow, url).to.be.at.most(0);
    }
  });

  if (SCREENSHOTS) {
    it('takes the screenshots of the payouts and silences pages (SKYRELAY_SCREENSHOTS=1)', async () => {
      hook.respondWith(replies.ok());
      const { controlNumber } = await anomalousPayout();
      await status(nextControlNumber(), '1', -60_000);
      await signIn();
      await page.goto(`${t.baseUrl}/ui/silences`);
      await page.getByLabel('Field 1').fill('partner');
      await page.getByLabel('Value 1').fill('AppName@skypay');
      await page.getByLabel('Field 2').fill('payType');
      await page.getByLabel('Value 2').fill('failure');
      await page.getByLabel('For (30m, 2h, 1d)').fill('2h');
      await page.getByLabel('Created by').fill('alice');
      await page.getByLabel('Comment (why: an outage, a ticket)').fill('GCash channel outage, ticket OPS-123');
      await page.getByRole('button', { name: 'Create silence' }).click();
      await page.getByRole('status').filter({ hasText: 'created' }).waitFor();
      const dir = path.join(REPO_ROOT, 'docs', 'images');
      fs.mkdirSync(dir, { recursive: true });
      const shots: [string, string][] = [
        ['/ui/payouts', 'dashboard-payouts.png'],
        [`/ui/payouts/${controlNumber}`, 'dashboard-payout.png'],
        ['/ui/silences', 'dashboard-silences.png'],
      ];
      for (const [url, file] of shots) {
        await page.goto(`${t.baseUrl}${url}`);
        await page.screenshot({ path: path.join(dir, file), fullPage: true });
      }
    });
  }
});
