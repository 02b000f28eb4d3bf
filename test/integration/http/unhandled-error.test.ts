import Router from '@koa/router';
import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { buildCallback, postCallback } from '../../support/skypay';

describe('an error no route handles (real daemon, real HTTP)', () => {
  let t: TestDaemon;

  before(async () => {
    // A route outside the callback and health handlers, as the admin API and metrics are, that fails.
    const broken = new Router();
    broken.get('/broken', () => {
      throw new Error('secret internal detail: /var/lib/skyrelay/skyrelay.db is on fire');
    });
    t = await startTestDaemon({}, { hooks: { routers: [broken] } });
  });
  after(() => t.stop());

  it('is answered 500 without internals and logged, not hidden', async () => {
    const res = await fetch(`${t.baseUrl}/broken`);
    const text = await res.text();
    expect(res.status).to.equal(500);
    expect(text).not.to.contain('secret internal detail');
    expect(text).not.to.contain('skyrelay.db');
    await waitUntil(() => t.logs.some((l) => l.includes('"msg":"request failed"')), 'the error to be logged');
    const line = JSON.parse(t.logs.find((l) => l.includes('"msg":"request failed"')) ?? '{}') as Record<
      string,
      unknown
    >;
    expect(line).to.include({ level: 50, method: 'GET', path: '/broken' });
    expect(JSON.stringify(line['err'])).to.contain('is on fire');
  });

  it('leaves callbacks working afterwards', async () => {
    const res = await postCallback(t.callbackUrl, buildCallback());
    expect(res.status).to.equal(200);
    expect(res.json).to.include({ responseCode: '1000' });
  });
});
