import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { describeBrowser, launchBrowser, type TestBrowser } from '../support/browser';
import { startTestDaemon, waitUntil, type TestDaemon } from '../support/daemon';
import { replies, startReceiver, type Receiver } from '../support/receiver';
import { buildCallback, dealTimeFromNow, postCallback } from '../support/skypay';
import { REPO_ROOT } from '../support/spawn';

const TOKEN = 'dashboard-browser-token-0123456789';
const SECRET = `whsec_${Buffer.from('dashboard-browser-secret-0000001').toString('base64')}`;
/** Set to take the screenshots in docs/images/ in the same run: SKYRELAY_SCREENSHOTS=1. */
const SCREENSHOTS = process.env['SKYRELAY_SCREENSHOTS'] === '1';

describeBrowser('dashboard in Chromium', function () {
  this.timeout(60_000);
  let t: TestDaemon;
  let hook: Receiver;
  let browser: TestBrowser;
  let page: Page;

  before(async () => {
    hook = await startReceiver();
    t = await startTestDaemon({
      admin: { token: TOKEN },
      destinations: { hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET } },
      rules: [{ name: 'all', to: ['hook'] }],
      delivery: { pollIntervalMs: 100, initialBackoffMs: 100, maxAttempts: 2 },
    });
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await hook?.close();
  });
  beforeEach(async () => {
    hook.respondWith(replies.ok());
    await browser.context.clearCookies();
  });

  async function signIn(): Promise<void> {
    await page.goto(`${t.baseUrl}/ui`);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  }

  /** Posts a callback and waits until its delivery has finished (delivered or dead); returns the event id. */
  async function callback(overrides: Record<string, unknown> = {}): Promise<{ id: string; controlNumber: string }> {
    const body = buildCallback({ dealTime: dealTimeFromNow(), ...overrides });
    const res = await postCallback(t.callbackUrl, body);
    expect(res.status).to.equal(200);
    const controlNumber = String(body['controlNumber']);
    let id = '';
    await waitUntil(async () => {
      const [e] = await t.daemon.store.listEvents({ controlNumber, limit: 1 });
      id = e?.id ?? '';
      return e !== undefined && e.deliveries.pending + e.deliveries.inflight === 0;
    }, `${controlNumber} delivered or dead`);
    return { id, controlNumber };
  }

  it('refuses a wrong token, then signs in with the right one', async () => {
    await page.goto(`${t.baseUrl}/ui/events`);
    expect(new URL(page.url()).pathname).to.equal('/ui/sign-in');
    await page.getByLabel('Admin token').fill('not-the-token-at-all-000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not the admin token' }).waitFor();
    expect(new URL(page.url()).pathname).to.equal('/ui/sign-in');
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back where it was going.
    await page.getByRole('heading', { name: 'Events' }).waitFor();
    expect(new URL(page.url()).pathname).to.equal('/ui/events');
    const [cookie] = await browser.context.cookies();
    expect(cookie).to.deep.include({ name: 'skyrelay_session', httpOnly: true, sameSite: 'Strict', path: '/ui' });
  });

  it('finds an event by control number and shows its attempts', async () => {
    hook.respondWith(replies.ok('thanks from the ledger'));
    const { controlNumber } = await callback({ payType: '2' });
    await callback(); // another event, which the filter must leave out
    await signIn();
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByLabel('Control number').fill(controlNumber);
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.locator('tbody tr');
    await waitUntil(async () => (await rows.count()) === 1, 'one row');
    expect(await rows.first().textContent()).to.contain(controlNumber);
    await rows.first().getByRole('link').click();
    await page.getByRole('heading', { name: `Event ${controlNumber} paid` }).waitFor();
    const attempt = page.locator('tr.attempt');
    expect(await attempt.count()).to.equal(1);
    const text = (await attempt.first().textContent()) ?? '';
    expect(text)
      .to.contain('delivered')
      .and.contain('200')
      .and.contain('thanks from the ledger')
      .and.match(/\d+ ms/);
  });

  it('replays a dead delivery from the event page, and the receiver gets it', async () => {
    hook.respondWith(replies.badRequest('no such account'));
    const { id } = await callback();
    const before = hook.requests.length;
    hook.respondWith(replies.ok());
    await signIn();
    await page.goto(`${t.baseUrl}/ui/events/${id}`);
    expect(await page.locator('.delivery h3').textContent()).to.contain('dead');
    expect(await page.locator('tr.attempt').first().textContent()).to.contain('no such account');
    await page.getByRole('button', { name: 'Replay delivery to hook' }).click();
    await page.getByRole('status').filter({ hasText: '1 requeued' }).waitFor();
    await hook.waitFor(before + 1);
    await waitUntil(async () => {
      await page.reload();
      return ((await page.locator('.delivery h3').textContent()) ?? '').includes('delivered');
    }, 'the page to show the delivery delivered');
    expect(await page.locator('tr.attempt').count()).to.equal(2);
  });

  it('replays several selected dead deliveries at once', async () => {
    hook.respondWith(replies.badRequest());
    const events = [await callback(), await callback(), await callback()];
    const dead = await t.daemon.store.listDeliveries({ state: 'dead', destination: 'hook', limit: 100 });
    const ours = dead.filter((d) => events.some((e) => e.id === d.eventId)).map((d) => d.id);
    expect(ours).to.have.length(3);
    hook.respondWith(replies.ok());
    const before = hook.requests.length;
    await signIn();
    await page.getByRole('link', { name: 'Deliveries' }).click();
    await page.getByLabel('State').selectOption('dead');
    await page.getByRole('button', { name: 'Filter' }).click();
    for (const id of ours) await page.getByLabel(`Select delivery ${id} to hook`).check();
    await page.getByRole('button', { name: 'Replay selected' }).click();
    await page.getByRole('status').filter({ hasText: '3 requeued' }).waitFor();
    await hook.waitFor(before + 3);
    await waitUntil(async () => {
      const rows = await t.daemon.store.listDeliveries({ state: 'delivered', destination: 'hook', limit: 100 });
      return ours.every((id) => rows.some((r) => r.id === id));
    }, 'all three delivered');
  });

  it('replays all dead deliveries matching a filter after confirming their count', async () => {
    hook.respondWith(replies.badRequest());
    await callback();
    await callback();
    const count = await t.daemon.store.countReplayable({ state: 'dead', destination: 'hook' });
    hook.respondWith(replies.ok());
    await signIn();
    await page.goto(`${t.baseUrl}/ui/deliveries?state=dead&destination=hook`);
    await page.getByRole('button', { name: 'Replay all matching…' }).click();
    expect(await page.getByTestId('replay-count').textContent()).to.equal(String(count));
    await page.getByRole('button', { name: `Replay ${count} deliveries` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${count} requeued` })
      .waitFor();
    await waitUntil(
      async () => (await t.daemon.store.countReplayable({ state: 'dead', destination: 'hook' })) === 0,
      'no dead deliveries left',
    );
  });

  it('shows a callback refused with 401 on the refused-callbacks page', async () => {
    const res = await postCallback(t.callbackUrl, buildCallback({ authentication: 'WRONG-KEY' }));
    expect(res.status).to.equal(401);
    await signIn();
    await page.getByRole('link', { name: 'Refused callbacks' }).click();
    const row = page.locator('tr.rejection').first();
    const text = (await row.textContent()) ?? '';
    expect(text).to.contain('unauthenticated').and.contain('HTTP 401').and.contain('127.0.0.1');
    expect(text).to.contain('AppName@skypay');
    expect(text).to.not.contain('WRONG-KEY');
  });

  it('shows a <script> in failDescription as text and never runs it', async () => {
    const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
    hook.respondWith(replies.echo(200, () => '<script>window.__pwned = 3</script>'));
    const { id } = await callback({ payType: '4', failDescription: hostile });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await signIn();
    await page.goto(`${t.baseUrl}/ui/events/${id}`);
    await page.getByText(hostile, { exact: true }).waitFor();
    expect(await page.locator('tr.attempt').first().textContent()).to.contain('<script>window.__pwned = 3</script>');
    await page.goto(`${t.baseUrl}/ui/events`);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).to.equal(undefined);
    expect(await page.locator('main script, main img').count()).to.equal(0);
    expect(dialogs).to.deep.equal([]);
  });

  it('isolates bidirectional controls from callbacks and receivers in <bdi>, and keeps them out of attributes and titles', async () => {
    const override = '\u202eTNEMYAP DELLECNAC\u2066\u200f';
    hook.respondWith(replies.echo(400, () => `refused \u202eyaw siht`));
    const { id, controlNumber } = await callback({
      payType: '4',
      failDescription: `closed ${override}`,
      referenceNumber: `REF\u202eFER`,
      note: `\u2067note\u202b`,
    });
    await signIn();
    /** Text nodes holding a bidirectional control outside a <bdi>, attributes holding one, and the title's. */
    const findLoose = (): Promise<{ isolated: number; loose: string[] }> =>
      page.evaluate(`(() => {
        const bidi = /[\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]/;
        const loose = [];
        let isolated = 0;
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
          if (!bidi.test(node.nodeValue)) continue;
          if (node.parentElement.closest('bdi')) isolated++;
          else loose.push('text in <' + node.parentElement.tagName + '>: ' + node.nodeValue);
        }
        for (const element of document.querySelectorAll('*')) {
          for (const attribute of element.attributes) {
            if (bidi.test(attribute.value)) loose.push(element.tagName + ' ' + attribute.name + '=' + attribute.value);
          }
        }
        if (bidi.test(document.title)) loose.push('title: ' + document.title);
        return { isolated, loose };
      })()`);
    // Pages showing the sender's and the receiver's text, and pages that show only skyrelay's words about them.
    const pages: [url: string, showsIt: boolean][] = [
      [`/ui/events/${id}`, true],
      ['/ui/deliveries?state=dead', false],
      [`/ui/payouts/${controlNumber}`, false],
      [`/ui/events?controlNumber=${controlNumber}`, false],
      [`/ui/events?controlNumber=${encodeURIComponent(`${controlNumber}\u202e`)}`, false],
    ];
    for (const [url, showsIt] of pages) {
      await page.goto(`${t.baseUrl}${url}`);
      const { isolated, loose } = await findLoose();
      expect(JSON.stringify(loose), url).to.equal('[]');
      if (showsIt) expect(isolated, url).to.be.greaterThan(0);
    }
  });

  it('refuses a POST without the page’s CSRF token, and takes it with the token', async () => {
    const { id } = await callback();
    await signIn();
    await page.goto(`${t.baseUrl}/ui/events/${id}`);
    const token = await page.locator('input[name="_csrf"]').first().inputValue();
    const before = hook.requests.length;
    const post = (form: Record<string, string>) =>
      page.evaluate(
        async ([url, body]) => {
          const res = await fetch(url, { method: 'POST', body: new URLSearchParams(body), redirect: 'manual' });
          return res.status;
        },
        [`${t.baseUrl}/ui/events/${id}/replay`, form] as const,
      );
    expect(await post({})).to.equal(403);
    expect(await post({ _csrf: `${token.slice(0, -2)}xx` })).to.equal(403);
    expect(hook.requests.length).to.equal(before);
    // The same request with the page's token goes through (a redirect back to the event).
    expect(await post({ _csrf: token })).to.be.oneOf([0, 303]);
    await hook.waitFor(before + 1);
  });

  it('signs out, after which /ui asks for the token again', async () => {
    await signIn();
    const session = await browser.context.cookies();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    await page.goto(`${t.baseUrl}/ui`);
    expect(new URL(page.url()).pathname).to.equal('/ui/sign-in');
    await page.getByLabel('Admin token').waitFor();
    expect(await browser.context.cookies()).to.deep.equal([]);
    // A copy of the old cookie is no way back in.
    await browser.context.addCookies(session);
    await page.goto(`${t.baseUrl}/ui/events`);
    expect(new URL(page.url()).pathname).to.equal('/ui/sign-in');
  });

  it('updates the overview without a reload', async () => {
    await signIn();
    const readiness = await page.getByTestId('readiness').textContent();
    expect(readiness?.trim()).to.equal('Ready');
    const accepted = async () => Number((await page.locator('.legend strong').first().textContent())?.trim() ?? 'NaN');
    const first = await accepted();
    await callback();
    // The tally reaches the store within its flush interval and the page polls every 5 s.
    await waitUntil(async () => (await accepted()) > first, 'the chart to count the new callback', 20_000);
  });

  it('adds a new event to the first page of events without a reload', async () => {
    await signIn();
    await page.goto(`${t.baseUrl}/ui/events`);
    const { controlNumber } = await callback();
    await page.locator('tbody tr', { hasText: controlNumber }).waitFor({ timeout: 15_000 });
  });

  it('signs in with the keyboard alone and reaches a page through the nav', async () => {
    await page.goto(`${t.baseUrl}/ui`);
    // The token field takes focus by itself (autofocus) once the page is in: keys typed before would go nowhere.
    await page.waitForFunction("document.activeElement?.id === 'token'");
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Destinations' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Destinations' }).waitFor();
  });

  it('sends a test event to a destination from its page', async () => {
    hook.respondWith(replies.ok('test received'));
    const before = hook.requests.length;
    await signIn();
    await page.getByRole('link', { name: 'Destinations' }).click();
    await page.getByRole('button', { name: 'Send test to hook' }).click();
    await page.getByRole('status').filter({ hasText: 'The receiver answered HTTP 200' }).waitFor();
    const [request] = (await hook.waitFor(before + 1)).slice(before);
    expect(request?.body).to.contain('SKYRELAYTEST00');
    // Outside the queue: nothing was stored for it.
    expect(await t.daemon.store.listEvents({ controlNumber: 'SKYRELAYTEST00', limit: 1 })).to.deep.equal([]);
  });

  if (SCREENSHOTS) {
    it('takes the screenshots in docs/images/ (SKYRELAY_SCREENSHOTS=1)', async () => {
      hook.respondWith(replies.badRequest('account closed'));
      const { id } = await callback({ payType: '4', failDescription: 'Beneficiary account closed' });
      await postCallback(t.callbackUrl, buildCallback({ authentication: 'WRONG-KEY' }));
      hook.respondWith(replies.ok());
      await callback({ payType: '2' });
      await waitUntil(
        async () => (await t.daemon.store.readCallbackMinutes(Date.now() - 3_600_000)).length > 0,
        'the chart to have its counts',
      );
      await signIn();
      const dir = path.join(REPO_ROOT, 'docs', 'images');
      fs.mkdirSync(dir, { recursive: true });
      const shots: [string, string][] = [
        ['/ui', 'dashboard-overview.png'],
        ['/ui/events', 'dashboard-events.png'],
        [`/ui/events/${id}`, 'dashboard-event.png'],
        ['/ui/deliveries?state=dead', 'dashboard-deliveries.png'],
        ['/ui/destinations', 'dashboard-destinations.png'],
      ];
      for (const [url, file] of shots) {
        await page.goto(`${t.baseUrl}${url}`);
        await page.screenshot({ path: path.join(dir, file), fullPage: true });
      }
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${t.baseUrl}/ui/events/${id}`);
      await page.screenshot({ path: path.join(dir, 'dashboard-phone.png'), fullPage: false });
      await page.setViewportSize({ width: 1280, height: 900 });
    });
  }
});
