import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CONFIG_ERROR_EXIT_CODE } from '../../../src/config/load';
import { makeTempDir } from '../../support/daemon';
import { getRefusedUrl } from '../../support/receiver';
import { REPO_ROOT } from '../../support/spawn';

const run = promisify(execFile);
const PM2 = path.join(REPO_ROOT, 'node_modules', '.bin', 'pm2');

interface Pm2Process {
  pm2_env: { status: string; restart_time: number; exit_code?: number };
}

interface Result {
  code: number;
  output: string;
}

/**
 * `npm run start:daemon` as package.json has it, without its build step (the tests run on the build already made):
 * real pm2 from the project's dependencies under a private PM2_HOME, ecosystem.config.js --env production.
 */
function startDaemonCommand(): string {
  const scripts = (
    JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  const line = scripts['start:daemon'] ?? '';
  expect(line.startsWith('npm run build && ')).to.equal(true);
  return line.slice('npm run build && '.length);
}

function pm2Sandbox(label: string, env: () => NodeJS.ProcessEnv) {
  const dir = makeTempDir(label);
  const withHome = (): NodeJS.ProcessEnv => ({
    ...env(),
    PM2_HOME: path.join(dir, 'pm2'),
    SKYRELAY_INSTANCES: '1',
    SKYRELAY_LOG_DIR: dir,
    SUPPRESS_NO_CONFIG_WARNING: 'y',
    // As `npm run` gives it: node_modules/.bin first.
    PATH: `${path.join(REPO_ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env['PATH'] ?? ''}`,
  });
  return {
    dir,
    errLog: () => fs.readFileSync(path.join(dir, 'skyrelay.err.log'), 'utf8'),
    list: async (): Promise<Pm2Process[]> =>
      JSON.parse((await run(PM2, ['jlist'], { cwd: REPO_ROOT, env: withHome() })).stdout) as Pm2Process[],
    startDaemon: async (): Promise<Result> => {
      try {
        const r = await run('sh', ['-c', `${startDaemonCommand()} 2>&1`], {
          cwd: REPO_ROOT,
          env: withHome(),
          timeout: 90_000,
        });
        return { code: 0, output: r.stdout };
      } catch (err) {
        const e = err as { code?: number; stdout?: string };
        return { code: typeof e.code === 'number' ? e.code : -1, output: e.stdout ?? '' };
      }
    },
    close: async () => {
      await run(PM2, ['kill'], { cwd: REPO_ROOT, env: withHome(), timeout: 30_000 }).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A partner list as SKYRELAY_PARTNERS takes it, with a key production accepts. */
const PARTNERS = JSON.stringify([{ userName: 'Acme@skypay', authentication: ['acme-live-key-0001'] }]);

function baseEnv(dir: string, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { SKYRELAY_PARTNERS: _p, NODE_CONFIG: _c, ...inherited } = process.env;
  return {
    ...inherited,
    NODE_CONFIG_DIR: path.join(REPO_ROOT, 'config'),
    SKYRELAY_PARTNERS: PARTNERS,
    NODE_CONFIG: JSON.stringify({ server: { host: '127.0.0.1', port: 0 }, store: { path: path.join(dir, 'r.db') } }),
    ...overrides,
  };
}

describe('npm run start:daemon: a configuration that does not parse stops at once, exit 78', function () {
  this.timeout(120_000);

  describe('a JSON syntax error in config/local.json', () => {
    let configDir = '';
    const box = pm2Sandbox('skyrelay-pm2-local-json', () => baseEnv(box.dir, { NODE_CONFIG_DIR: configDir }));
    before(() => {
      configDir = path.join(box.dir, 'config');
      fs.cpSync(path.join(REPO_ROOT, 'config'), configDir, { recursive: true });
      // A comma missing after a value that must not be echoed (json5, node-config's parser, allows trailing ones).
      fs.writeFileSync(
        path.join(configDir, 'local.json'),
        '{\n  "admin": { "token": "local-admin-token-SECRET-0001", }\n  "log": {}\n}\n',
      );
    });
    after(() => box.close());

    it('exits 78 once (no restart), names the file, line and column, never the text; start:daemon fails', async () => {
      const result = await box.startDaemon();
      expect(result.code, result.output).to.not.equal(0);
      expect(result.output).to.contain('skyrelay did not start: skyrelay:0 stopped (exit code 78');
      const [proc, ...others] = await box.list();
      expect(others).to.deep.equal([]);
      expect(proc?.pm2_env).to.include({ status: 'stopped', restart_time: 0, exit_code: CONFIG_ERROR_EXIT_CODE });
      const errLog = box.errLog();
      expect(errLog.match(/skyrelay: invalid configuration:/g), errLog).to.have.length(1);
      const problem = `${path.join(configDir, 'local.json')}: is not valid JSON: invalid character at line 3, column 3`;
      expect(errLog).to.contain(problem);
      // start:daemon shows the end of the error log: the reason, where the operator typed the command.
      expect(result.output).to.contain(problem);
      expect(errLog + result.output).not.to.contain('SECRET-0001');
    });
  });

  describe('a malformed JSON environment variable (SKYRELAY_PARTNERS)', () => {
    const box = pm2Sandbox('skyrelay-pm2-env-json', () =>
      // Cut short: the value is a partner list with a key in it, which the message must not repeat.
      baseEnv(box.dir, { SKYRELAY_PARTNERS: '[{"userName":"Acme@skypay","authentication":["live-SECRET-key-02"]' }),
    );
    after(() => box.close());

    it('exits 78 once, naming the variable and its key, never its value; start:daemon fails', async () => {
      const result = await box.startDaemon();
      expect(result.code, result.output).to.not.equal(0);
      const [proc] = await box.list();
      expect(proc?.pm2_env).to.include({ status: 'stopped', restart_time: 0, exit_code: CONFIG_ERROR_EXIT_CODE });
      const errLog = box.errLog();
      expect(errLog.match(/skyrelay: invalid configuration:/g), errLog).to.have.length(1);
      expect(errLog).to.contain(
        '- skypay.partners: SKYRELAY_PARTNERS is not valid JSON: invalid end of input at line 1',
      );
      expect(result.output).to.contain('SKYRELAY_PARTNERS is not valid JSON');
      expect(errLog + result.output).not.to.contain('live-SECRET-key-02');
    });
  });

  describe('a valid configuration', () => {
    let baseUrl = '';
    const box = pm2Sandbox('skyrelay-pm2-start-ok', () =>
      baseEnv(box.dir, {
        NODE_CONFIG: JSON.stringify({
          server: { host: '127.0.0.1', port: Number(new URL(baseUrl).port) },
          store: { path: path.join(box.dir, 'r.db') },
        }),
      }),
    );
    before(async () => {
      baseUrl = await getRefusedUrl();
    });
    after(() => box.close());

    it('exits 0 once the daemon is online and has stayed so, and it answers', async () => {
      const result = await box.startDaemon();
      expect(result.code, result.output).to.equal(0);
      expect(result.output).to.contain('skyrelay: 1 instance(s) online');
      const [proc] = await box.list();
      expect(proc?.pm2_env).to.include({ status: 'online', restart_time: 0 });
      expect((await fetch(`${baseUrl}/healthz`)).status).to.equal(200);
    });
  });
});
