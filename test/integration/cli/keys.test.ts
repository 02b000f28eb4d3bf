import { expect } from 'chai';
import { runCli } from './run-cli';

const SECRET = `whsec_${Buffer.from('cli-keys-test-signing-secret-01').toString('base64')}`;
const OLD = `whsec_${Buffer.from('cli-keys-test-signing-secret-00').toString('base64')}`;

function lineOf(output: string, label: string): string {
  const line = output.split('\n').find((l) => l.startsWith(label));
  expect(line, `a "${label}" line in:\n${output}`).to.be.a('string');
  return (line ?? '').slice(label.length).trim();
}

describe('skyrelay keys', function () {
  this.timeout(20_000);

  it('generate: a key pair and a secret that the configuration takes, with the public key config check and keys public show', async () => {
    const [pair, hmac] = await Promise.all([
      runCli(['keys', 'generate', 'ed25519'], {}),
      runCli(['keys', 'generate', 'hmac'], {}),
    ]);
    expect(pair.code, pair.stderr).to.equal(0);
    expect(hmac.code, hmac.stderr).to.equal(0);
    const privateKey = lineOf(pair.stdout, 'privateKey:');
    const publicKey = lineOf(pair.stdout, 'publicKey:');
    const secret = lineOf(hmac.stdout, 'secret:');
    expect(privateKey).to.match(/^whsk_/);
    expect(publicKey).to.match(/^whpk_/);
    expect(secret).to.match(/^whsec_/);

    const config = {
      destinations: {
        ledger: {
          type: 'webhook',
          url: 'https://ledger.test/hooks/private-path-1234',
          secrets: [{ secret }, { secret: OLD, expiresAt: '2099-12-31T00:00:00Z' }],
          signing: 'ed25519',
          privateKey,
        },
      },
    };
    const [check, printed] = await Promise.all([
      runCli(['config', 'check'], config),
      runCli(['keys', 'public', 'ledger'], config),
    ]);
    expect(check.code, check.stderr).to.equal(0);
    expect(check.stdout).to.contain(
      `  ledger  webhook  https://ledger.test/… (signed v1 with 2 secrets (one until 2099-12-31T00:00:00Z); ` +
        `signed v1a with ed25519, public key ${publicKey}; secrets hidden)`,
    );
    const seed = Buffer.from(privateKey.slice(5), 'base64').subarray(0, 32).toString('base64');
    for (const hidden of [secret.slice(6), OLD.slice(6), privateKey.slice(5), seed, 'private-path-1234']) {
      expect(check.stdout + check.stderr).not.to.contain(hidden);
    }
    expect(printed.code, printed.stderr).to.equal(0);
    expect(printed.stdout).to.equal(`${publicKey}\n`);
  });

  it('config check warns about a secret past its expiresAt', async () => {
    const check = await runCli(['config', 'check'], {
      destinations: {
        ledger: {
          type: 'webhook',
          url: 'https://ledger.test/hooks',
          secrets: [{ secret: SECRET }, { secret: OLD, expiresAt: '2020-01-01T00:00:00Z' }],
        },
      },
    });
    expect(check.code, check.stderr).to.equal(0);
    expect(check.stdout).to.contain(
      'warnings:\n  - destinations.ledger.secrets.1.expiresAt: 2020-01-01T00:00:00Z has passed; ' +
        'that secret signs nothing any more, remove it\n',
    );
    expect(check.stdout).to.contain('(signed v1 with 2 secrets (one expired 2020-01-01T00:00:00Z); secrets hidden)');
  });

  it('public: exit 1 naming the problem for an unknown destination and for one that signs with secrets only', async () => {
    const config = {
      destinations: {
        ledger: { type: 'webhook', url: 'https://ledger.test/hooks', secret: SECRET },
        ops: { type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/xyz' },
      },
    };
    const [unknown, hmacOnly, slack] = await Promise.all([
      runCli(['keys', 'public', 'ledgr'], config),
      runCli(['keys', 'public', 'ledger'], config),
      runCli(['keys', 'public', 'ops'], config),
    ]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.contain('no destination "ledgr" (configured: ledger, ops)');
    for (const [name, r] of [
      ['ledger', hmacOnly],
      ['ops', slack],
    ] as const) {
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.contain(`destination "${name}" does not sign with ed25519, so it has no public key`);
      expect(r.stderr).not.to.contain(SECRET.slice(6));
    }
  });

  it('generate: exit 2 for an unknown key type', async () => {
    const r = await runCli(['keys', 'generate', 'rsa'], {});
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('unknown key type "rsa": expected hmac or ed25519');
  });
});
