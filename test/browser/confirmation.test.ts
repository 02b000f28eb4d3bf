import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { describeBrowser, launchBrowser, type TestBrowser } from '../support/browser';
import { startTestDaemon, waitUntil, type TestDaemon } from '../support/daemon';
import {
  SAMPLE_AUTH,
  SAMPLE_ENCRYPT_KEY,
  SAMPLE_PARTNER,
  buildCallback,
  dealTimeFromNow,
  decryptReply,
  nextControlNumber,
  postCallback,
} from '../support/skypay';
import { SkyPaySimulator } from '../support/skypay-simulator';

const TOKEN = 'confirmation-browser-token-0123456';
const squeeze = (text: string | null): string => (text ?? '').replace(/\s+/g, ' ').trim();

describeBrowser("dashboard: a payout's confirmation by SkyPay's status query, in Chromium", function () {
  this.timeout(60_000);
  let sim: SkyPaySimulator;
  let t: TestDaemon;
  let browser: TestBrowser;
  let page: Page;

  before(async () => {
    sim = await SkyPaySimulator.start({
      userName: SAMPLE_PARTNER,
      authentication: SAMPLE_AUTH,
      encryptKey: SAMPLE_ENCRYPT_KEY,
    });
    t = await startTestDaemon({
      admin: { token: TOKEN },
      skypay: {
        partners: [{ userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] }],
        statusQuery: { url: sim.url, partner: SAMPLE_PARTNER, intervalMs: 200, minAgeMs: 1, timeoutMs: 2000 },
      },
    });
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await sim?.stop();
  });

  async function send(controlNumber: string, payType: string, dealTime: string): Promise<void> {
    const body = buildCallback({ controlNumber, payType, dealTime });
    const res = await postCallback(t.callbackUrl, body, { encryptKey: SAMPLE_ENCRYPT_KEY });
    expect((decryptReply(res.text, SAMPLE_ENCRYPT_KEY) as Record<string, unknown>)['responseCode']).to.equal('1000');
  }

  it('shows confirmed and contradicted payouts in the list, filters by confirmation, and explains it on the payout page', async () => {
    const [genuine, forged] = [nextControlNumber('SKBRG'), nextControlNumber('SKBRF')];
    const paidAt = dealTimeFromNow(-60_000);
    sim.set(
      { controlNumber: genuine, status: '1', statusDesc: 'Completed', payTime: paidAt, cancelTime: '' },
      { controlNumber: forged, status: '2', statusDesc: 'Uploaded', transactionDate: dealTimeFromNow(-120_000) },
    );
    await send(genuine, '1', dealTimeFromNow(-120_000));
    await send(genuine, '2', paidAt);
    await send(forged, '1', dealTimeFromNow(-120_000));
    await send(forged, '2', dealTimeFromNow(-30_000));
    await waitUntil(async () => {
      const [g] = await t.daemon.store.getPayouts(genuine);
      const [f] = await t.daemon.store.getPayouts(forged);
      return g?.payout.confirmation === 'confirmed' && f?.payout.confirmation === 'contradicted';
    }, 'both payouts settled by the status query');

    await page.goto(`${t.baseUrl}/ui`);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Payouts', exact: true }).click();
    await page.getByRole('heading', { name: 'Payouts', exact: true }).waitFor();
    const cell = (cn: string) => page.locator('tr.payout', { hasText: cn }).getByTestId('confirmation');
    expect(squeeze(await cell(genuine).textContent())).to.equal('confirmed');
    expect(squeeze(await cell(forged).textContent())).to.equal('contradicted');

    await page.getByLabel('Confirmation').selectOption('contradicted');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('tr.payout', { hasText: forged }).waitFor();
    expect(await page.locator('tr.payout', { hasText: genuine }).count()).to.equal(0);
    // A contradicted payout is an anomaly too.
    await page.getByRole('link', { name: 'Anomalies', exact: true }).click();
    await page.locator('tr.payout', { hasText: forged }).waitFor();

    await page.locator('tr.payout', { hasText: forged }).getByRole('link', { name: forged }).click();
    await page.getByRole('heading', { name: `Payout ${forged}` }).waitFor();
    expect(squeeze(await page.getByTestId('payout-confirmation').textContent())).to.match(
      /^contradicted SkyPay's status query says otherwise \(payout\.anomaly, kind unconfirmed\)/,
    );
    expect(squeeze(await page.locator('table.reconciliations').textContent())).to.match(/2 Uploaded contradiction/);
  });
});
