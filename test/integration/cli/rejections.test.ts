import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { SAMPLE_AUTH, buildCallback, postCallback } from '../../support/skypay';
import { runCli } from './run-cli';

describe('skyrelay CLI: rejections, and events --type rejection', function () {
  this.timeout(30_000);
  let t: TestDaemon;
  let config: Record<string, unknown>;
  let cut: string;

  /**
   * Listings are newest first by id, and ids only order by millisecond: the
   * next request goes out once the clock has passed this one's answer.
   */
  async function send(post: () => Promise<unknown>): Promise<void> {
    await post();
    const answered = Date.now();
    await waitUntil(() => Date.now() > answered, 'the next millisecond');
  }

  before(async () => {
    // No rule routes skyrelay's own events, so no rejection event exists: the rejections must be listed anyway.
    t = await startTestDaemon();
    config = { server: { host: '127.0.0.1', port: t.daemon.address.port }, store: { path: t.dbPath } };
    await send(() => postCallback(t.callbackUrl, buildCallback({ payType: '4' })));
    await send(() => postCallback(t.callbackUrl, buildCallback({ authentication: 'GUESS-0000' })));
    await send(() => postCallback(t.callbackUrl, buildCallback({ controlNumber: 'SHORT' })));
    cut = new Date().toISOString();
    const form = { raw: 'a=1', contentType: 'application/x-www-form-urlencoded' };
    await send(() => postCallback(t.callbackUrl, undefined, form));
  });
  after(async () => {
    await t?.stop();
  });

  it('rejections: a newest-first table of time, remote address, status, reason, partner, description', async () => {
    const r = await runCli(['rejections'], config);
    expect(r.code).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^RECEIVED +ID +FROM +STATUS +REASON +PARTNER +DESCRIPTION$/);
    expect(lines).to.have.length(4);
    expect(lines[1]).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +rej_\w+ +\S*127\.0\.0\.1 +415 +unsupported_m/);
    expect(lines[1]).to.match(/unsupported_media_type +— +/);
    expect(lines[2]).to.match(/rej_\w+ +\S*127\.0\.0\.1 +400 +invalid +AppName@skypay +controlNumber: must be/);
    expect(lines[3]).to.match(/rej_\w+ +\S*127\.0\.0\.1 +401 +unauthenticated +AppName@skypay +.*wrong authentication/);
    expect(r.stdout).not.to.contain(SAMPLE_AUTH);
  });

  it('rejections: --json, --reason, --since and --limit', async () => {
    const [json, filtered] = await Promise.all([
      runCli(['rejections', '--json'], config),
      runCli(['rejections', '--reason', 'invalid', '--since', '1h', '--limit', '5', '--json'], config),
    ]);
    const rows = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const reasons = rows(json.stdout).map((x) => x['reason']);
    expect(reasons).to.deep.equal(['unsupported_media_type', 'invalid', 'unauthenticated']);
    expect(rows(json.stdout)[2]).to.include({ status: 401, partner: 'AppName@skypay', method: 'POST' });
    expect(rows(filtered.stdout).map((x) => x['reason'])).to.deep.equal(['invalid']);
  });

  it('events --type rejection lists the same rejections, whatever the rules say', async () => {
    const [events, rejections, sinceLimited] = await Promise.all([
      runCli(['events', '--type', 'rejection'], config),
      runCli(['rejections'], config),
      runCli(['events', '--type', 'rejection', '--since', cut, '--limit', '5', '--json'], config),
    ]);
    expect(events.code).to.equal(0);
    expect(events.stdout).to.equal(rejections.stdout);
    const rows = sinceLimited.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((x) => x['reason'])).to.deep.equal(['unsupported_media_type']);
    expect(rows[0]).to.have.keys([
      'id',
      'receivedAt',
      'remoteAddress',
      'method',
      'path',
      'status',
      'reason',
      'partner',
      'description',
      'suppressed',
    ]);
  });

  it('exit 2 for a bad reason, and for payout filters with --type rejection', async () => {
    const [badReason, withStatus] = await Promise.all([
      runCli(['rejections', '--reason', 'Bad!', '--since', '1h'], config),
      runCli(['events', '--type', 'rejection', '--status', 'failure'], config),
    ]);
    expect([badReason.code, withStatus.code]).to.deep.equal([2, 2]);
    expect(badReason.stderr).to.contain('reason: expected a rejection reason');
    expect(withStatus.stderr).to.contain('--status: does not apply to type rejection');
  });
});
