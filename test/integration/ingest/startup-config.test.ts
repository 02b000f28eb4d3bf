import { expect } from 'chai';
import path from 'node:path';
import { CONFIG_ERROR_EXIT_CODE } from '../../../src/config/load';
import { makeTempDir } from '../../support/daemon';
import { spawnDaemon, spawnDaemonExpectingExit } from '../../support/spawn';
import { SAMPLE_AUTH, buildCallback, dealTimeFromNow, postCallback } from '../../support/skypay';

/**
 * What an operator gets wrong at start-up must stop the built daemon with
 * exit code 78 (not 1, which pm2 restarts) and a message naming the key,
 * never start it on something else.
 */
describe('start-up configuration checks (built daemon)', function () {
  this.timeout(30_000);
  const store = () => ({ path: path.join(makeTempDir(), 'skyrelay.db'), synchronous: 'NORMAL' });

  it('refuses to run in production on the public sample key, saying to set SKYRELAY_PARTNERS', async () => {
    const { code, output } = await spawnDaemonExpectingExit(
      { server: { host: '127.0.0.1', port: 0 }, store: store() },
      { NODE_ENV: 'production' },
    );
    expect(code).to.equal(CONFIG_ERROR_EXIT_CODE);
    expect(output).to.match(/skypay\.partners\.0\.authentication: the public sample key .* set SKYRELAY_PARTNERS/);
    expect(output, 'a key is never echoed, even a public one').not.to.contain(SAMPLE_AUTH);
  });

  it('runs in production once SKYRELAY_PARTNERS replaces the sample', async () => {
    const partners = [{ userName: 'Acme@skypay', authentication: ['acme-production-key-0001'] }];
    const d = await spawnDaemon(
      { server: { host: '127.0.0.1', port: 0 }, store: store() },
      { NODE_ENV: 'production', SKYRELAY_PARTNERS: JSON.stringify(partners) },
    );
    try {
      // A dealTime of today: production.json refuses the 2018 sample as older than skypay.maxAgeDays.
      const res = await postCallback(
        d.callbackUrl,
        buildCallback({
          userName: 'Acme@skypay',
          authentication: 'acme-production-key-0001',
          dealTime: dealTimeFromNow(),
        }),
      );
      expect(res.json?.['responseCode']).to.equal('1000');
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });

  for (const port of ['abc', '80x']) {
    it(`refuses SKYRELAY_PORT=${port} as a configuration error naming server.port`, async () => {
      const { code, output } = await spawnDaemonExpectingExit(
        { server: { host: '127.0.0.1' }, store: store() },
        { SKYRELAY_PORT: port },
      );
      expect(code).to.equal(CONFIG_ERROR_EXIT_CODE);
      expect(output).to.match(/invalid configuration:\n {2}- server\.port: SKYRELAY_PORT must be a number/);
    });
  }
});
