import { expect } from 'chai';
import { renderChart, toMinuteSeries } from '../../../src/ui/chart';
import { escapeHtml, html, query } from '../../../src/ui/html';
import { safeBack } from '../../../src/ui/router';
import { SessionKeys } from '../../../src/ui/session';
import { CallbackTallies, MINUTE_MS, tallyOf } from '../../../src/ui/tally';
import type { CallbackMinute } from '../../../src/ingest/types';
import { createLogger } from '../../../src/log';
import { Writable } from 'node:stream';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('dashboard: escaping', () => {
  it('escapes every interpolated value, and only what html`` built passes as markup', () => {
    const hostile = `<script>alert("x")</script>' onload=\`x\` &amp;`;
    const out = html`<p title="${hostile}">${hostile}${html`<b>ok</b>`}${[hostile, 1]}${null}${undefined}${false}</p>`;
    expect(out.text).to.not.match(/<script|"x"|' onload|`x`/);
    expect(out.text).to.contain('<b>ok</b>').and.contain('&#60;script&#62;').and.contain('&#38;amp;').and.contain('1');
    expect(escapeHtml(`<>&"'\``)).to.equal('&#60;&#62;&#38;&#34;&#39;&#96;');
  });

  it('isolates text between tags in <bdi>, and drops bidirectional controls where no element can go', () => {
    const rlo = 'abc\u202edef\u2066\u200e';
    expect(html`<p title="${rlo}">Payout ${rlo} of ${'x'} · ${7}${''}</p>`.text).to.equal(
      `<p title="abcdef">Payout <bdi>${rlo}</bdi> of <bdi>x</bdi> · 7</p>`,
    );
    expect(html`<title>${rlo}</title>`.text).to.equal('<title>abcdef</title>');
    expect(html`<textarea>${rlo}</textarea>`.text).to.equal('<textarea>abcdef</textarea>');
    expect(html`<option value="${rlo}">${rlo}</option>`.text).to.equal('<option value="abcdef">abcdef</option>');
    expect(html`<svg><text>${rlo}</text></svg>`.text).to.equal('<svg><text>abcdef</text></svg>');
    expect(html`<td>${[rlo, html`<b>${rlo}</b>`]}</td>`.text).to.equal(
      `<td><bdi>${rlo}</bdi><b><bdi>${rlo}</bdi></b></td>`,
    );
  });

  it('builds query strings from set parameters only', () => {
    expect(query({ a: 'x y', b: undefined, c: '' })).to.equal('?a=x+y');
    expect(query({})).to.equal('');
  });
});

describe('dashboard: sessions and CSRF tokens', () => {
  const keys = new SessionKeys('a-dashboard-token-0123456789');
  const now = 1_800_000_000_000;

  it('verifies what it issued until it expires', () => {
    const { cookie, session } = keys.issue(now, 60_000);
    expect(keys.verify(cookie, now + 59_999)).to.deep.equal(session);
    expect(keys.verify(cookie, now + 60_000)).to.equal(undefined);
    expect(keys.verify(undefined, now)).to.equal(undefined);
  });

  it('refuses a cookie changed anywhere, or signed with another token', () => {
    const { cookie } = keys.issue(now, 60_000);
    for (let i = 0; i < cookie.length; i++) {
      const c = cookie[i] === 'A' ? 'B' : 'A';
      expect(keys.verify(cookie.slice(0, i) + c + cookie.slice(i + 1), now), `changed at ${i}`).to.equal(undefined);
    }
    expect(new SessionKeys('another-token-0123456789').verify(cookie, now)).to.equal(undefined);
  });

  it('checks the admin token and a per-session CSRF token', () => {
    expect(keys.checkToken('a-dashboard-token-0123456789')).to.equal(true);
    expect(keys.checkToken('a-dashboard-token-012345678')).to.equal(false);
    const a = keys.issue(now, 60_000).session;
    const b = keys.issue(now, 60_000).session;
    expect(keys.checkCsrf(a, keys.csrfToken(a))).to.equal(true);
    expect(keys.checkCsrf(a, keys.csrfToken(b))).to.equal(false);
    expect(keys.checkCsrf(a, undefined)).to.equal(false);
    expect(keys.checkCsrf(a, '')).to.equal(false);
  });
});

describe('dashboard: where a form may send the browser back to', () => {
  it('keeps paths under /ui and turns everything else into /ui', () => {
    expect(safeBack('/ui/events/evt_1')).to.equal('/ui/events/evt_1');
    expect(safeBack('/ui/deliveries?state=dead')).to.equal('/ui/deliveries?state=dead');
    for (const bad of [
      undefined,
      'https://evil.example/',
      '//evil.example',
      '/ui//evil',
      '/ui\\evil',
      '/uix',
      '/admin',
    ]) {
      expect(safeBack(bad), String(bad)).to.equal('/ui');
    }
  });
});

describe('dashboard: callbacks per minute', () => {
  it('counts conflicts as duplicates and every refusal as rejected', () => {
    expect(tallyOf('accepted')).to.equal('accepted');
    expect(tallyOf('conflict')).to.equal('duplicate');
    expect(tallyOf('duplicate')).to.equal('duplicate');
    expect(tallyOf('refused:unauthenticated')).to.equal('rejected');
  });

  it('spreads sparse rows over the last hour, the current minute last', () => {
    const now = 100 * MINUTE_MS + 30_000;
    const rows: CallbackMinute[] = [
      { minuteMs: 100 * MINUTE_MS, outcome: 'accepted', count: 4 },
      { minuteMs: 41 * MINUTE_MS, outcome: 'rejected', count: 2 },
      { minuteMs: 40 * MINUTE_MS, outcome: 'accepted', count: 9 }, // 61 minutes back: outside
    ];
    const series = toMinuteSeries(rows, now);
    expect(series.minutes).to.have.length(60);
    expect(series.minutes[59]).to.equal(100 * MINUTE_MS);
    expect(series.counts.accepted[59]).to.equal(4);
    expect(series.counts.rejected[0]).to.equal(2);
    expect(series.totals).to.deep.equal({ accepted: 4, duplicate: 0, rejected: 2 });
    const svg = renderChart(series).text;
    expect(svg).to.contain('4 accepted, 0 duplicate, 2 refused');
    expect(svg.match(/<rect\s/g)).to.have.length(2);
  });

  it('adds counts by minute, keeps them when the store fails, and saves the rest on stop', async () => {
    let now = 10 * MINUTE_MS;
    const saved: CallbackMinute[][] = [];
    let failing = true;
    const store = {
      addCallbackMinutes: (counts: readonly CallbackMinute[]) => {
        if (failing) return Promise.reject(new Error('database is locked'));
        saved.push([...counts]);
        return Promise.resolve();
      },
    } as unknown as ConstructorParameters<typeof CallbackTallies>[0];
    const tallies = new CallbackTallies(store, silent, 60_000, () => now);
    tallies.record('accepted');
    tallies.record('accepted');
    tallies.record('refused:invalid');
    await tallies.flush();
    expect(saved).to.deep.equal([]);
    failing = false;
    now += MINUTE_MS;
    tallies.record('duplicate');
    const stopped = tallies.stop();
    expect(tallies.stop()).to.equal(stopped);
    await stopped;
    expect(saved).to.have.length(1);
    expect(saved[0]).to.have.deep.members([
      { minuteMs: 10 * MINUTE_MS, outcome: 'accepted', count: 2 },
      { minuteMs: 10 * MINUTE_MS, outcome: 'rejected', count: 1 },
      { minuteMs: 11 * MINUTE_MS, outcome: 'duplicate', count: 1 },
    ]);
  });
});
