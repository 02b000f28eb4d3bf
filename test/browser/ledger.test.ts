import { expect } from 'chai';
import { Client } from 'pg';
import type { Page } from 'playwright-core';
import { dayOf } from '../../src/ledger/balance';
import { describeBrowser, launchBrowser, signInToDashboard, type TestBrowser } from '../support/browser';
import { startTestDaemon, waitUntil, type TestDaemon } from '../support/daemon';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/postgres';
import { getRefusedUrl, replies, startReceiver, type Receiver } from '../support/receiver';
import { buildCallback, dealTimeFromNow, postCallback } from '../support/skypay';
import { sqliteHandle } from '../support/sqlite';

const TOKEN = 'ledger-browser-admin-token-012345';
const SECRET = `whsec_${Buffer.from('ledger-browser-signing-secret-001').toString('base64')}`;

/** Where the page's day is stored, and how a delivery is set to a state no end knows, straight in its table. */
interface PageStore {
  kind: 'sqlite' | 'postgres';
  open(): Promise<{ store: Record<string, unknown>; drop(): Promise<void> }>;
  setDeliveryState(t: TestDaemon, deliveryId: string, state: string): Promise<void>;
}

const sqlite: PageStore = {
  kind: 'sqlite',
  // The daemon's own temp file.
  open: async () => ({ store: {}, drop: async () => undefined }),
  setDeliveryState: async (t, id, state) => {
    const db = sqliteHandle(t.daemon.store);
    // The CHECK on state is what a damaged file no longer has.
    db.pragma('ignore_check_constraints = ON');
    db.prepare('UPDATE deliveries SET state = ? WHERE id = ?').run(state, id);
    db.pragma('ignore_check_constraints = OFF');
  },
};

function postgres(): PageStore {
  let url = '';
  return {
    kind: 'postgres',
    open: async () => {
      const db: TestDatabase = await createTestDatabase();
      url = db.url;
      return { store: { url }, drop: () => db.drop() };
    },
    setDeliveryState: async (_t, id, state) => {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_state_check');
        await client.query('UPDATE deliveries SET state = $1 WHERE id = $2', [state, id]);
      } finally {
        await client.end();
      }
    },
  };
}

describeBrowser('dashboard Ledger page in Chromium', function () {
  describe('on SQLite', function () {
    proveLedgerPage(this, sqlite);
  });
  describePostgres('on PostgreSQL', function () {
    proveLedgerPage(this, postgres());
  });
});

function proveLedgerPage(suite: Mocha.Suite, pageStore: PageStore): void {
  suite.timeout(60_000);
  let t: TestDaemon;
  let hook: Receiver;
  let browser: TestBrowser;
  let page: Page;
  let drop: (() => Promise<void>) | undefined;

  before(async () => {
    hook = await startReceiver();
    hook.respondWith(replies.ok());
    const refused = await getRefusedUrl();
    const opened = await pageStore.open();
    drop = opened.drop;
    t = await startTestDaemon({
      store: opened.store,
      admin: { token: TOKEN },
      destinations: {
        hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET },
        dying: { type: 'webhook', url: `${refused}/in`, secret: SECRET },
      },
      rules: [{ name: 'feed', to: ['hook', 'dying'] }],
      delivery: { pollIntervalMs: 50, initialBackoffMs: 50, maxBackoffMs: 100, maxAttempts: 2 },
    });
    expect(t.daemon.store.kind).to.equal(pageStore.kind);
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await hook?.close();
    await drop?.();
  });

  const cell = (destination: string, key: string) =>
    page.locator(`tr[data-destination="${destination}"] td[data-key="${key}"]`);

  it('picks a day, shows it balanced, links non-zero counts to their rows, and names a damaged row', async () => {
    const first = buildCallback({ payType: '1', dealTime: dealTimeFromNow() });
    for (const body of [first, first, buildCallback({ payType: '4', dealTime: dealTimeFromNow() })]) {
      expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    }
    const states = async (state: string) =>
      (await t.daemon.store.listDeliveries({ state: state as 'dead', limit: 10 })).length;
    await waitUntil(
      async () => (await states('delivered')) === 2 && (await states('dead')) === 2,
      'hook delivered, dying dead',
    );
    const today = dayOf(Date.now(), 480);

    await signInToDashboard(page, t.baseUrl, TOKEN);
    await page.getByRole('link', { name: 'Ledger' }).click();
    await page.getByLabel('Day (skypay.timezone)').fill(today);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('heading', { name: `Ledger ${today}` }).waitFor();
    expect(await page.getByRole('status').innerText()).to.contain('Balanced');
    expect(await cell('hook', 'delivered').innerText()).to.equal('2');
    expect(await cell('dying', 'dead').innerText()).to.equal('2');
    // A 0 is no link; a non-zero count is one.
    expect(await cell('hook', 'dead').locator('a').count()).to.equal(0);
    await cell('dying', 'dead').getByRole('link').click();
    await page.waitForURL(/\/ui\/deliveries\?destination=dying&state=dead/);
    expect(await page.locator('tbody tr').count()).to.equal(2);

    await page.goBack();
    await page
      .getByRole('row', { name: /Accepted/ })
      .getByRole('link')
      .click();
    await page.waitForURL(/\/ui\/events\?since=/);
    expect(await page.locator('tbody tr').count()).to.equal(2);

    // A delivery set to a state no end knows: the page says so and links the row's event.
    const [delivered] = await t.daemon.store.listDeliveries({ state: 'delivered', limit: 1 });
    await pageStore.setDeliveryState(t, delivered!.id, 'misplaced');
    await page.goto(`${t.baseUrl}/ui/ledger?day=${today}`);
    expect(await page.getByRole('alert').innerText()).to.contain('Not balanced: 1 unexplained');
    const row = page.locator('.ledger-unexplained tbody tr');
    expect(await row.innerText()).to.contain('"misplaced"');
    await row.getByRole('link', { name: delivered!.id }).click();
    await page.waitForURL(new RegExp(`/ui/events/${delivered!.eventId}$`));
  });
}
