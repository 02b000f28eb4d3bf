import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { makeTempDir, readDefaultConfig } from '../../support/daemon';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { SAMPLE_AUTH } from '../../support/skypay';
import { REPO_ROOT } from '../../support/spawn';
import { runCli } from './run-cli';

const SECRET = `whsec_${Buffer.from('cli-papercuts-signing-secret-01').toString('base64')}`;
const fingerprint = (keys: string[]) =>
  createHash('sha256')
    .update([...keys].sort().join('\n'))
    .digest('hex')
    .slice(0, 8);

describe('skyrelay CLI as a new user meets it', function () {
  this.timeout(20_000);
  let hook: Receiver;
  let tempDir: string;

  before(async () => {
    hook = await startReceiver();
    tempDir = makeTempDir('skyrelay-cli-papercuts');
  });
  after(async () => {
    await hook.close();
    fs.rmSync(tempDir, { recursive: true, force: true });
  });

  it('simulate --encrypt on the default config: exit 1 with how to configure an encrypt key', async () => {
    const r = await runCli(['simulate', '--encrypt'], {});
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('partner AppName@skypay has no encryptKeys to encrypt with');
    expect(r.stderr).to.contain('"encryptKeys" in skypay.partners (SKYRELAY_PARTNERS, or config/local.json');
  });

  it('config check: a count and a fingerprint per key list, nothing about any key, the same for the same keys', async () => {
    const partners = (auth: string[]) => ({
      skypay: { partners: [{ userName: 'Acme@skypay', authentication: auth, encryptKeys: ['EncryptKeyNumberOne'] }] },
    });
    const [one, same, other] = await Promise.all([
      runCli(['config', 'check'], partners(['KeyAlpha-0001', 'KeyBravo-000002'])),
      runCli(['config', 'check'], partners(['KeyBravo-000002', 'KeyAlpha-0001'])),
      runCli(['config', 'check'], partners(['KeyAlpha-0001', 'KeyCharlie-03'])),
    ]);
    const line = (out: string) => out.split('\n').find((l) => l.includes('Acme@skypay')) ?? '';
    expect(line(one.stdout)).to.equal(
      `  Acme@skypay  authentication 2 keys (fingerprint ${fingerprint(['KeyAlpha-0001', 'KeyBravo-000002'])}); ` +
        `must encrypt, 1 key (fingerprint ${fingerprint(['EncryptKeyNumberOne'])})`,
    );
    expect(line(same.stdout)).to.equal(line(one.stdout));
    expect(line(other.stdout)).not.to.equal(line(one.stdout));
    expect(one.stdout).not.to.match(/chars|\*{3}/);
    for (const key of ['KeyAlpha', 'KeyBravo', 'EncryptKeyNumberOne']) expect(one.stdout).not.to.contain(key);
  });

  it('test-destination: says the status and the answer once', async () => {
    hook.respondWith(replies.unavailable('try later'));
    const config = { destinations: { hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET } } };
    const r = await runCli(['test-destination', 'hook'], config);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(
      'sending to hook failed: Webhook destination hook: HTTP 503 try later (temporary: the daemon would retry)',
    );
    expect(r.stderr.match(/503/g)).to.have.length(1);
    expect(r.stderr.match(/try later/g)).to.have.length(1);
  });

  it('config/local.json is read over default.json (and git ignores it)', async () => {
    const dir = path.join(tempDir, 'config');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'default.json'), JSON.stringify(readDefaultConfig()));
    fs.writeFileSync(path.join(dir, 'local.json'), JSON.stringify({ server: { port: 9191 } }));
    const r = await runCli(['config', 'check'], {}, { NODE_CONFIG_DIR: dir });
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('server:      0.0.0.0:9191');
    expect(r.stdout).not.to.contain(SAMPLE_AUTH);
    const ignored = fs.readFileSync(path.join(REPO_ROOT, '.gitignore'), 'utf8').split('\n');
    expect(ignored).to.include('config/local.json');
  });
});
