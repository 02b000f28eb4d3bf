import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, checkNumericEnv, listConfigWarnings, validateConfig } from '../../../src/config/load';
import { mergeDeep, readDefaultConfig } from '../../support/config';

function problemsOf(overrides: Record<string, unknown>): string[] {
  try {
    validateConfig(mergeDeep(readDefaultConfig(), overrides));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

describe('config/load', () => {
  it('accepts config/default.json as shipped, with the documented defaults', () => {
    const config = validateConfig(readDefaultConfig());
    expect(config.server).to.include({ host: '0.0.0.0', port: 8080, bodyLimit: '1mb' });
    expect(config.store.path).to.equal('data/skyrelay.db');
    expect(config.skypay.partners[0]?.userName).to.equal('AppName@skypay');
    expect(config.destinations).to.deep.equal({});
  });

  it('stuck payouts: no wait set by default (the built-in waits per state apply), a check a minute', () => {
    expect(validateConfig(readDefaultConfig()).payouts).to.deep.equal({
      stuckAfter: {},
      stuckAfterByPartner: {},
      checkIntervalMs: 60_000,
    });
    const off = validateConfig(mergeDeep(readDefaultConfig(), { payouts: { stuckAfterMs: 0 } }));
    expect(off.payouts.stuckAfterMs).to.equal(0);
  });

  it('stuck payouts: waits in milliseconds or as durations, per state and per configured partner', () => {
    const { payouts } = validateConfig(
      mergeDeep(readDefaultConfig(), {
        payouts: {
          stuckAfterMs: 7_200_000,
          stuckAfter: { uploaded: '3d', amendedFailure: 0 },
          stuckAfterByPartner: { 'AppName@skypay': { uploaded: '90m' } },
        },
      }),
    );
    expect(payouts).to.deep.include({
      stuckAfterMs: 7_200_000,
      stuckAfter: { uploaded: 259_200_000, amendedFailure: 0 },
      stuckAfterByPartner: { 'AppName@skypay': { uploaded: 5_400_000 } },
    });
    expect(
      validateConfig(mergeDeep(readDefaultConfig(), { payouts: { stuckAfterByPartner: { 'AppName@skypay': '4h' } } }))
        .payouts.stuckAfterByPartner,
    ).to.deep.equal({ 'AppName@skypay': 14_400_000 });
  });

  it('fills in defaults for sections left out', () => {
    const config = validateConfig({ skypay: { partners: [{ userName: 'a', authentication: ['k'] }] } });
    expect(config.skypay.partners[0]?.encryptKeys).to.deep.equal([]);
    expect(config.delivery.maxAttempts).to.equal(12);
    expect(config.skypay.timezone).to.equal('+08:00');
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a port out of range', { server: { port: 70000 } }, /^server\.port: .*0 to 65535/],
    ['a port given as text', { server: { port: 'eighty' } }, /^server\.port: .*integer/],
    ['a misspelt key', { server: { prot: 8080 } }, /^server\.prot: is not a known setting/],
    [
      'an empty key list',
      { skypay: { partners: [{ userName: 'a', authentication: [] }] } },
      /^skypay\.partners\.0\.authentication: /,
    ],
    [
      'a bad timezone',
      { skypay: { timezone: 'Asia/Manila' } },
      /^skypay\.timezone: must be an offset such as "\+08:00"/,
    ],
    ['a bad body limit', { server: { bodyLimit: 'huge' } }, /^server\.bodyLimit: must be a size/],
    [
      'a partner configured twice',
      {
        skypay: {
          partners: [
            { userName: 'a', authentication: ['k'] },
            { userName: 'a', authentication: ['j'] },
          ],
        },
      },
      /configured twice/,
    ],
    ['a metrics path under /admin', { metrics: { path: '/Admin/m' } }, /^metrics\.path: must not be under \/admin/],
    [
      'a metrics path above the callback path',
      { metrics: { path: '/callbacks/' } },
      /^metrics\.path: must not be skypay\.path or a path above it/,
    ],
    ['the metrics path at the root', { metrics: { path: '/' } }, /^metrics\.path: must not be \/healthz or a path/m],
    ['a callback path under /admin', { skypay: { path: '//admin/cb' } }, /^skypay\.path: must not be under \/admin/],
    ['a short metrics token', { metrics: { token: 'short' } }, /^metrics\.token: /],
    ['an unknown role', { roles: 'ingest,relay' }, /^roles\.1: expected one of `"ingest","delivery"`/],
    ['no role at all', { roles: '' }, /^roles: /],
    [
      'a callback path under the dashboard',
      { admin: { token: 'a-dashboard-token-0123' }, skypay: { path: '/UI/cb' } },
      /^skypay\.path: must not be under \/ui/,
    ],
    ['ui.publicUrl without admin.token', { ui: { publicUrl: 'https://relay.example.com' } }, /^ui\.publicUrl: needs/],
    [
      'a ui.publicUrl with a query',
      { admin: { token: 'a-dashboard-token-0123' }, ui: { publicUrl: 'https://x.example/?a=1' } },
      /^ui\.publicUrl: must be an http/,
    ],
    ['a role named twice', { roles: ['delivery', 'delivery'] }, /^roles: names a role twice/],
    [
      'a negative payouts.stuckAfterMs',
      { payouts: { stuckAfterMs: -1 } },
      /^payouts\.stuckAfterMs: must be an integer, 0 or more/,
    ],
    [
      'a wait that is not a duration',
      { payouts: { stuckAfter: { uploaded: 'three days' } } },
      /^payouts\.stuckAfter\.uploaded: must be milliseconds \(0 or more\) or a duration such as "90m", "6h" or "3d"$/,
    ],
    [
      'a wait for a final state',
      { payouts: { stuckAfter: { paid: '1h' } } },
      /^payouts\.stuckAfter\.paid: is not a known/,
    ],
    [
      'a per-partner wait for a partner not configured',
      { payouts: { stuckAfterByPartner: { 'Remit@skypay': '3d' } } },
      /^payouts\.stuckAfterByPartner\.Remit@skypay: not a configured partner \(configured: AppName@skypay\)$/,
    ],
    [
      'a per-partner wait per state with a bad value',
      { payouts: { stuckAfterByPartner: { 'AppName@skypay': { amendedSuccess: -5 } } } },
      /^payouts\.stuckAfterByPartner\.AppName@skypay\.amendedSuccess: must be milliseconds/,
    ],
    [
      'a zero payouts.checkIntervalMs',
      { payouts: { checkIntervalMs: 0 } },
      /^payouts\.checkIntervalMs: must be a positive/,
    ],
    [
      'a rule on an unknown transition kind',
      {
        destinations: {
          d: {
            type: 'webhook',
            url: 'https://x.example/h',
            secret: `whsec_${Buffer.from('0123456789abcdef0123').toString('base64')}`,
          },
        },
        rules: [{ name: 'r', match: { 'transition.kind': 'afterfinal' }, to: ['d'] }],
      },
      /^rules\.0\.match: transition\.kind: unknown value "afterfinal"/m,
    ],
  ];
  for (const [name, overrides, expected] of cases) {
    it(`refuses ${name}, naming the key`, () => {
      expect(problemsOf(overrides).join('\n')).to.match(expected);
    });
  }

  it('reports every problem at once, each naming its key, whichever stage finds it', () => {
    const problems = problemsOf({
      server: { port: 'eighty' },
      skypay: {
        partners: [
          { userName: 'a', authentication: ['k'] },
          { userName: 'a', authentication: ['j'] },
        ],
      },
      metrics: { path: '/admin/metrics' },
      destinations: {
        ops: { type: 'slack', url: 'https://hooks.slack.example/x', mask: ['referenceNo'] },
        broken: { type: 'webhook', url: 'https://x.example/h', secret: 'not-a-whsec' },
      },
      rules: [
        { name: 'r', to: ['ops', 'broken', 'nowhere'] },
        { name: 'r', match: { status: 'paied' }, to: ['ops'] },
      ],
    });
    expect(problems).to.have.length(8);
    const [port, mask, secret, status, ...across] = problems;
    expect(port).to.equal('server.port: expected an integer (got a string)');
    expect(mask).to.match(/^destinations\.ops\.mask\.0: unknown field "referenceNo" \(expected one of .*\)$/);
    expect(secret).to.match(/^destinations\.broken\.secret: expected a whsec_ secret/);
    expect(status).to.match(/^rules\.1\.match: status: /);
    // The checks across sections still run: the rule's destinations, the partners, the paths.
    expect(across).to.deep.equal([
      'rules.0.to: unknown destination "nowhere" (configured: ops, broken)',
      'rules.1.name: duplicate rule name "r" (also rules.0)',
      'skypay.partners.1.userName: "a" is configured twice',
      "metrics.path: must not be under /admin (the admin API's path)",
    ]);
    // "(got ...)" only where the type is what is wrong: never after a message about a string's content.
    for (const p of problems.slice(1)) expect(p).not.to.contain('(got');
  });

  it('says the type it got only when the type is wrong', () => {
    expect(problemsOf({ server: { trustProxy: 'yes' } })).to.deep.equal([
      'server.trustProxy: expected a value of type `boolean` (got a string)',
    ]);
    expect(problemsOf({ server: { port: 70000 } })).to.deep.equal(['server.port: must be an integer from 0 to 65535']);
    expect(problemsOf({ log: { level: 'loud' } })[0]).to.match(/^log\.level: expected one of .*"info".*[^)]$/);
  });

  it('production.json refuses dealTimes over 30 days old or 10 minutes ahead; default.json leaves both off', () => {
    const dir = path.join(__dirname, '..', '..', '..', '..', 'config');
    const production = JSON.parse(fs.readFileSync(path.join(dir, 'production.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const config = validateConfig(mergeDeep(readDefaultConfig(), production));
    expect(config.skypay).to.include({ maxAgeDays: 30, maxFutureMinutes: 10 });
    const defaults = validateConfig(readDefaultConfig()).skypay;
    expect([defaults.maxAgeDays, defaults.maxFutureMinutes]).to.deep.equal([undefined, undefined]);
  });

  it('gives both roles by default and reads SKYRELAY_ROLES as a comma-separated list', () => {
    expect(validateConfig(readDefaultConfig()).roles).to.deep.equal(['ingest', 'delivery']);
    expect(validateConfig(mergeDeep(readDefaultConfig(), { roles: ' delivery ' })).roles).to.deep.equal(['delivery']);
    expect(validateConfig(mergeDeep(readDefaultConfig(), { roles: 'delivery,ingest' })).roles).to.deep.equal([
      'delivery',
      'ingest',
    ]);
  });

  it('defaults metrics.path to /metrics and leaves metrics.token unset', () => {
    const { metrics } = validateConfig(readDefaultConfig());
    expect(metrics.path).to.equal('/metrics');
    expect(metrics.token).to.equal(undefined);
  });

  it('never echoes a secret value in its messages', () => {
    const problems = problemsOf({ skypay: { partners: [{ userName: 'a', authentication: 'TOPSECRET-AUTH' }] } });
    expect(problems.join('\n')).to.contain('skypay.partners.0.authentication').and.not.to.contain('TOPSECRET-AUTH');
  });

  it("refuses the documentation's sample key only in production", () => {
    expect(() => validateConfig(readDefaultConfig(), { production: true })).to.throw(
      ConfigError,
      /set SKYRELAY_PARTNERS/,
    );
    expect(() => validateConfig(readDefaultConfig(), { production: false })).not.to.throw();
  });

  it('names the key of a numeric environment variable that is not a number', () => {
    const mapping = {
      server: { port: { __name: 'SKYRELAY_PORT', __format: 'number' } },
      store: { path: 'SKYRELAY_DB_PATH' },
    };
    expect(checkNumericEnv(mapping, { SKYRELAY_PORT: '80x' })).to.deep.equal([
      'server.port: SKYRELAY_PORT must be a number (got text that is not one)',
    ]);
    expect(checkNumericEnv(mapping, { SKYRELAY_PORT: '8081' })).to.deep.equal([]);
    expect(checkNumericEnv(mapping, { SKYRELAY_PORT: '' })).to.deep.equal([]);
    expect(checkNumericEnv(mapping, {})).to.deep.equal([]);
  });
});

describe('config/load: skypay.financePath and skypay.statusQuery', () => {
  const ENCRYPTING = {
    userName: 'Acme@skypay',
    authentication: ['ACME-AUTH-KEY-1'],
    encryptKeys: ['ACME-ENCRYPT-KEY-1'],
  };
  const PLAIN = { userName: 'Plain@skypay', authentication: ['PLAIN-AUTH-KEY-1'], encryptKeys: [] };
  const withQuery = (statusQuery: Record<string, unknown>, partners: unknown[] = [ENCRYPTING, PLAIN]) => ({
    skypay: { partners, statusQuery },
  });

  it('leaves financePath unset and the status query off, with its documented defaults', () => {
    const { skypay } = validateConfig(readDefaultConfig());
    expect(skypay.financePath).to.equal(undefined);
    expect(skypay.statusQuery).to.deep.equal({
      intervalMs: 1_800_000,
      minAgeMs: 300_000,
      batchSize: 50,
      timeoutMs: 10_000,
    });
    expect(listConfigWarnings(validateConfig(readDefaultConfig()))).to.deep.equal([]);
  });

  it('takes a status query naming an encrypting partner', () => {
    const config = validateConfig(
      mergeDeep(
        readDefaultConfig(),
        withQuery({ url: 'https://test.skypay.ph/services/acme', partner: 'Acme@skypay' }),
      ),
    );
    expect(config.skypay.statusQuery).to.include({
      url: 'https://test.skypay.ph/services/acme',
      partner: 'Acme@skypay',
    });
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    [
      'a financePath under /admin',
      { skypay: { financePath: '/admin/finance' } },
      /^skypay\.financePath: must not be under \/admin/,
    ],
    [
      'a financePath equal to skypay.path',
      { skypay: { financePath: '/callbacks/skypay' } },
      /^skypay\.financePath: must differ/,
    ],
    [
      'a financePath that is not a path',
      { skypay: { financePath: 'finance' } },
      /^skypay\.financePath: must be a URL path/,
    ],
    [
      'a metrics path above financePath',
      { skypay: { financePath: '/f/skypay' }, metrics: { path: '/f' } },
      /^metrics\.path: must not be skypay\.financePath/,
    ],
    [
      'a status query URL that is not http(s)',
      withQuery({ url: 'ftp://skypay.ph/x', partner: 'Acme@skypay' }),
      /^skypay\.statusQuery\.url: must be an http/,
    ],
    [
      'a status query without a partner',
      withQuery({ url: 'https://test.skypay.ph/services/acme' }),
      /^skypay\.statusQuery\.partner: is required/,
    ],
    [
      'a status query naming an unknown partner',
      withQuery({ url: 'https://x.test/s', partner: 'Nobody' }),
      /^skypay\.statusQuery\.partner: "Nobody" is not a configured partner \(configured: Acme@skypay, Plain@skypay\)/,
    ],
    [
      'a status query by a partner without encryptKeys',
      withQuery({ url: 'https://x.test/s', partner: 'Plain@skypay' }),
      /^skypay\.statusQuery\.partner: partner "Plain@skypay" has no encryptKeys/,
    ],
    [
      'a batchSize over 50',
      withQuery({ batchSize: 51 }),
      /^skypay\.statusQuery\.batchSize: must be an integer from 1 to 50/,
    ],
    ['a zero intervalMs', withQuery({ intervalMs: 0 }), /^skypay\.statusQuery\.intervalMs: must be a positive integer/],
    ['a misspelt status query key', withQuery({ timeout: 5 }), /^skypay\.statusQuery\.timeout: is not a known setting/],
  ];
  for (const [name, overrides, expected] of refused) {
    it(`refuses ${name}, naming the key`, () => {
      expect(problemsOf(overrides).join('\n')).to.match(expected);
    });
  }

  it('never echoes a partner key when refusing a status query', () => {
    const problems = problemsOf(withQuery({ url: 'https://x.test/s', partner: 'Plain@skypay' }));
    expect(problems.join('\n')).not.to.match(/PLAIN-AUTH-KEY-1|ACME-ENCRYPT-KEY-1|ACME-AUTH-KEY-1/);
  });

  it('allows an interval under 30 minutes, with a warning naming the key', () => {
    const config = validateConfig(
      mergeDeep(
        readDefaultConfig(),
        withQuery({ url: 'https://x.test/s', partner: 'Acme@skypay', intervalMs: 60_000 }),
      ),
    );
    expect(listConfigWarnings(config)).to.deep.equal([
      "skypay.statusQuery.intervalMs: 60000 is below SkyPay's advice of one status query every 30 minutes (1800000)",
    ]);
  });
});

describe('config/load: webhook signing secrets', () => {
  const NEW = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
  const OLD = `whsec_${Buffer.alloc(32, 4).toString('base64')}`;
  const ledger = (signing: Record<string, unknown>) => ({
    destinations: { ledger: { type: 'webhook', url: 'https://ledger.test/hooks', ...signing } },
  });

  it('refuses secret and secrets together, and an expiresAt that does not parse, naming the keys and no secret', () => {
    const problems = problemsOf({
      destinations: {
        both: { type: 'webhook', url: 'https://ledger.test/a', secret: NEW, secrets: [{ secret: OLD }] },
        garbled: {
          type: 'webhook',
          url: 'https://ledger.test/b',
          secrets: [{ secret: NEW }, { secret: OLD, expiresAt: 'end of 2026' }],
        },
      },
    });
    expect(problems).to.deep.equal([
      'destinations.both.secrets: expected either "secret" or "secrets", not both (during a rotation "secrets" lists every secret)',
      'destinations.garbled.secrets.1.expiresAt: expected an RFC 3339 time with its offset, such as 2026-12-31T00:00:00Z',
    ]);
    expect(problems.join('\n')).not.to.contain(NEW.slice(6)).and.not.to.contain(OLD.slice(6));
  });

  it('starts with a secret already expired, with a warning naming it: the next one signs', () => {
    const config = validateConfig(
      mergeDeep(
        readDefaultConfig(),
        ledger({ secrets: [{ secret: NEW }, { secret: OLD, expiresAt: '2026-12-31T00:00:00Z' }] }),
      ),
    );
    expect(listConfigWarnings(config, Date.UTC(2026, 11, 30))).to.deep.equal([]);
    expect(listConfigWarnings(config, Date.UTC(2026, 11, 31))).to.deep.equal([
      'destinations.ledger.secrets.1.expiresAt: 2026-12-31T00:00:00Z has passed; that secret signs nothing any more, remove it',
    ]);
  });
});
