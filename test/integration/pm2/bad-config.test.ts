import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CONFIG_ERROR_EXIT_CODE } from '../../../src/config/load';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { REPO_ROOT } from '../../support/spawn';

const run = promisify(execFile);
const PM2 = path.join(REPO_ROOT, 'node_modules', '.bin', 'pm2');

interface Pm2Process {
  pm2_env: { status: string; restart_time: number; exit_code?: number };
}

/**
 * `npm run start:daemon` with a configuration the daemon refuses: real pm2
 * from the project's dependencies under a private PM2_HOME, started the way
 * that script starts it (ecosystem.config.js --env production).
 */
describe('pm2 start with an invalid configuration', function () {
  this.timeout(60_000);
  const dir = makeTempDir('skyrelay-pm2-config');
  let env: NodeJS.ProcessEnv;
  const pm2 = (...args: string[]) => run(PM2, args, { cwd: REPO_ROOT, env, timeout: 30_000 });
  const list = async (): Promise<Pm2Process[]> => JSON.parse((await pm2('jlist')).stdout) as Pm2Process[];

  before(() => {
    const { SKYRELAY_PARTNERS: _partners, ...inherited } = process.env;
    env = {
      ...inherited,
      PM2_HOME: path.join(dir, 'pm2'),
      SKYRELAY_INSTANCES: '1',
      SKYRELAY_LOG_DIR: dir,
      NODE_CONFIG_DIR: path.join(REPO_ROOT, 'config'),
      SUPPRESS_NO_CONFIG_WARNING: 'y',
      // No SKYRELAY_PARTNERS: production refuses the documentation's sample key.
      NODE_CONFIG: JSON.stringify({
        server: { host: '127.0.0.1', port: 0 },
        store: { path: path.join(dir, 'skyrelay.db') },
      }),
    };
  });
  after(async () => {
    await pm2('kill').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is not restarted, and the reason is in the error log exactly once', async () => {
    await pm2('start', 'ecosystem.config.js', '--env', 'production').catch(() => undefined);
    await waitUntil(
      async () => (await list()).filter((p) => ['stopped', 'errored'].includes(p.pm2_env.status)).length > 0,
      'the process to end',
      30_000,
    );
    const [proc, ...others] = await list();
    expect(others).to.deep.equal([]);
    expect(proc?.pm2_env).to.include({ restart_time: 0, exit_code: CONFIG_ERROR_EXIT_CODE });
    const pm2Log = fs.readFileSync(path.join(dir, 'pm2', 'pm2.log'), 'utf8');
    expect(pm2Log.match(/App \[skyrelay:\d+\] exited with code/g), 'one start, no restart').to.have.length(1);

    const errLog = fs.readFileSync(path.join(dir, 'skyrelay.err.log'), 'utf8');
    expect(errLog.match(/skyrelay: invalid configuration:/g), errLog).to.have.length(1);
    expect(errLog).to.contain('set SKYRELAY_PARTNERS');
  });

  it('lists the config exit code in ecosystem.config.js stop_exit_codes', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ecosystem = require(path.join(REPO_ROOT, 'ecosystem.config.js')) as {
      apps: { stop_exit_codes?: number[] }[];
    };
    expect(ecosystem.apps[0]?.stop_exit_codes).to.deep.equal([CONFIG_ERROR_EXIT_CODE]);
  });
});
