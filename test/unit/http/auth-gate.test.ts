import { expect } from 'chai';
import type Koa from 'koa';
import { AUTH_LOG_LINES_PER_MINUTE, AuthGate } from '../../../src/http/auth-gate';
import type { AuthRefusal } from '../../../src/http/types';
import { DEFAULT_AUTH_THROTTLE } from '../../../src/http/auth-throttle';
import { createLogger } from '../../../src/log';

/** The few parts of a Koa context the gate reads and writes. */
function contextFrom(ip: string): Koa.Context & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return {
    ip,
    path: '/admin/events',
    status: 404,
    body: undefined,
    headers,
    set: (k: string, v: string) => (headers[k] = v),
  } as never;
}

describe('http/auth-gate: sampled logging and counting of refused credentials', () => {
  let now = 1_700_000_000_000;
  const lines: Record<string, unknown>[] = [];
  const refusals: AuthRefusal[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const gate = () =>
    new AuthGate(DEFAULT_AUTH_THROTTLE, { logger, onRefused: (_s, outcome) => refusals.push(outcome), now: () => now });

  beforeEach(() => {
    lines.length = 0;
    refusals.length = 0;
  });

  it('logs a flood from 1,000 addresses in at most AUTH_LOG_LINES_PER_MINUTE lines a minute, saying how many it left out', () => {
    const g = gate();
    for (let i = 0; i < 1_000; i++) g.failed(contextFrom(`10.0.${Math.floor(i / 200)}.${i % 200}`), 'admin');
    expect(lines).to.have.length(AUTH_LOG_LINES_PER_MINUTE);
    expect(refusals).to.have.length(1_000);
    now += 60_000;
    g.failed(contextFrom('192.0.2.1'), 'metrics');
    expect(lines.at(-1)).to.deep.include({ surface: 'metrics', remoteAddress: '192.0.2.1', notLogged: 990 });
  });

  it('answers 429 with Retry-After once an address is locked out, and counts those too', () => {
    const g = gate();
    for (let i = 0; i < 10; i++) g.failed(contextFrom('192.0.2.9'), 'dashboard');
    expect(lines.map((l) => l['msg'])).to.deep.equal([
      'wrong credential (more from this address are counted, not logged)',
      '10 wrong credentials from one address: it gets 429 until the lockout ends',
    ]);
    const ctx = contextFrom('192.0.2.9');
    let said = 0;
    expect(g.admit(ctx, 'dashboard', (seconds) => (said = seconds))).to.equal(false);
    expect([ctx.status, ctx.headers['Retry-After'], said]).to.deep.equal([429, '60', 60]);
    expect(g.admit(contextFrom('192.0.2.10'), 'dashboard', () => undefined)).to.equal(true);
    expect(refusals.filter((r) => r === 'throttled')).to.have.length(1);
  });
});
