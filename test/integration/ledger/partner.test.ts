/**
 * One partner's ledger through the fronts: `skyrelay ledger --partner P` and GET /admin/ledger?partner=P count only
 * P's callbacks, refusals, events, routes and payouts, on a day two partners share; without it, both.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { dayOf } from '../../../src/ledger/balance';
import type { Ledger } from '../../../src/ledger/types';
import { makeTempDir, startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { SAMPLE_AUTH, SAMPLE_PARTNER, buildCallback, dealTimeFromNow, postCallback } from '../../support/skypay';
import { runCli } from '../cli/run-cli';

const TOKEN = 'ledger-partner-admin-token-0123456';
const SECRET = `whsec_${Buffer.from('ledger-partner-signing-secret-01').toString('base64')}`;
const BETA = 'Beta@skypay';
const BETA_AUTH = '5D0E7A3C-1B2F-4C8D-9E6A-0F1B2C3D4E5F';

async function ledgerOf(t: TestDaemon, query: string): Promise<Ledger> {
  const res = await fetch(`${t.baseUrl}/admin/ledger?${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await res.json()) as Ledger;
  expect(res.status, JSON.stringify(body)).to.equal(200);
  return body;
}

/** What a partner's share must show: its own counts and nothing of the other's. */
function expectShare(
  ledger: Ledger,
  share: { partner: string | null; accepted: number; duplicates: number; rejected: number; events: number },
): void {
  expect(ledger.partner).to.equal(share.partner);
  expect(ledger.callbacks).to.deep.equal({
    accepted: share.accepted,
    duplicates: share.duplicates,
    conflictingCopies: 0,
    rejected: share.rejected === 0 ? {} : { unauthenticated: share.rejected },
    suppressed: 0,
  });
  expect(ledger.events).to.deep.equal({ callback: share.events, reconciliation: 0, skyrelay: 0 });
  expect(ledger.routes['hook']).to.deep.include({ routed: share.events, delivered: share.events });
  expect(ledger.payouts).to.deep.include({ opened: share.events });
  expect(ledger.balanced).to.equal(true);
}

function provePartnerFilter(openStore: () => Promise<{ store: Record<string, unknown>; drop(): Promise<void> }>) {
  let hook: Receiver | undefined;
  let t: TestDaemon | undefined;
  let drop: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await t?.stop();
    await hook?.close();
    await drop?.();
    [t, hook, drop] = [undefined, undefined, undefined];
  });

  it("counts only the partner asked for, through the CLI's --partner and the API's ?partner=", async () => {
    const opened = await openStore();
    drop = opened.drop;
    hook = await startReceiver();
    hook.respondWith(replies.ok());
    const config = {
      store: opened.store,
      skypay: {
        partners: [
          { userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [] },
          { userName: BETA, authentication: [BETA_AUTH], encryptKeys: [] },
        ],
      },
      destinations: { hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET } },
      rules: [{ name: 'feed', match: { source: 'skypay' }, to: ['hook'] }],
      delivery: { pollIntervalMs: 50 },
      admin: { token: TOKEN },
    };
    t = await startTestDaemon(config);
    const day = dayOf(Date.now(), 480);

    // The sample partner: three payouts, one callback sent twice. Beta: two payouts, and a refusal in its name.
    const first = buildCallback({ payType: '1', dealTime: dealTimeFromNow() });
    const sample = [first, first, ...[0, 1].map(() => buildCallback({ payType: '1', dealTime: dealTimeFromNow() }))];
    const beta = [0, 1].map(() =>
      buildCallback({ userName: BETA, authentication: BETA_AUTH, payType: '1', dealTime: dealTimeFromNow() }),
    );
    for (const body of [...sample, ...beta]) {
      const res = await postCallback(t.callbackUrl, body);
      expect(res.json?.['responseCode'], JSON.stringify(body)).to.equal('1000');
    }
    const refused = buildCallback({ userName: BETA, authentication: SAMPLE_AUTH, dealTime: dealTimeFromNow() });
    expect((await postCallback(t.callbackUrl, refused)).json?.['responseCode']).to.not.equal('1000');
    await waitUntil(async () => (await ledgerOf(t!, `day=${day}`)).routes['hook']?.delivered === 5, 'all delivered');

    const sampleShare = { partner: SAMPLE_PARTNER, accepted: 4, duplicates: 1, rejected: 0, events: 3 };
    const betaShare = { partner: BETA, accepted: 2, duplicates: 0, rejected: 1, events: 2 };
    expectShare(await ledgerOf(t, `day=${day}&partner=${encodeURIComponent(SAMPLE_PARTNER)}`), sampleShare);
    const betaLedger = await ledgerOf(t, `day=${day}&partner=${encodeURIComponent(BETA)}`);
    expectShare(betaLedger, betaShare);
    expectShare(await ledgerOf(t, `day=${day}`), { partner: null, accepted: 6, duplicates: 1, rejected: 1, events: 5 });

    // The CLI opens the same store: the SQLite file or the PostgreSQL database named in the config.
    const cliConfig = config;
    const json = await runCli(['ledger', '--day', day, '--partner', BETA, '--json'], cliConfig);
    expect(json.code, json.stderr).to.equal(0);
    const fromCli = JSON.parse(json.stdout) as Ledger;
    expectShare(fromCli, betaShare);
    // The same object as the API's (the ages of open payouts measured a moment later aside).
    for (const key of ['callbacks', 'events', 'routes', 'unexplained'] as const) {
      expect(fromCli[key], key).to.deep.equal(betaLedger[key]);
    }
    const text = await runCli(['ledger', '--day', day, '--partner', SAMPLE_PARTNER], cliConfig);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.contain(`partner ${SAMPLE_PARTNER}: BALANCED`);
    expect(text.stdout).to.contain('accepted 4 = events from callbacks 3 + duplicates 1');
  });
}

describe('the ledger of one partner: CLI and admin API on SQLite', function () {
  this.timeout(60_000);
  provePartnerFilter(async () => {
    const dir = makeTempDir('skyrelay-ledger-partner');
    return {
      store: { path: path.join(dir, 'skyrelay.db') },
      drop: () => fs.promises.rm(dir, { recursive: true, force: true }),
    };
  });
});

describePostgres('the ledger of one partner: CLI and admin API on PostgreSQL', function () {
  this.timeout(60_000);
  provePartnerFilter(async () => {
    const database: TestDatabase = await createTestDatabase();
    return { store: { url: database.url }, drop: () => database.drop() };
  });
});
