import os from 'node:os';
import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { note } from '../../support/notes';
import { startReceiver, type Receiver } from '../../support/receiver';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';
import { waitUntil } from '../../support/wait';
import { runCli } from '../cli/run-cli';
import { ACME, admin, eventOf, inMail, inSlack, postFailure, silenceConfig } from './silence-setup';

/**
 * Issue 11 §5: a silence made through the CLI stops Slack and email for matching events and not for others (real
 * Slack receiver, real SMTP), and its expiry through the admin API restores them.
 */
describe('silence proof: CLI silence, admin expiry (real Slack receiver and SMTP)', function () {
  this.timeout(60_000);
  let t: TestDaemon;
  let slack: Receiver;
  let ledger: Receiver;
  let smtp: SmtpServerHandle;
  let cliConfig: Record<string, unknown>;

  before(async () => {
    [slack, ledger, smtp] = await Promise.all([startReceiver(), startReceiver(), startSmtpServer()]);
    const overrides = silenceConfig(slack, smtp, ledger);
    t = await startTestDaemon(overrides);
    cliConfig = { ...overrides, store: { path: t.dbPath } };
  });

  after(async () => {
    await t.stop();
    await Promise.all([slack.close(), ledger.close(), smtp.close()]);
  });

  it('stops Slack and email for matching events only, and its expiry restores them', async () => {
    const add = await runCli(
      [
        'silence',
        'add',
        '--match',
        'payType=failure',
        '--match',
        `partner=${ACME}`,
        '--for',
        '2h',
        '--by',
        'alice',
        '--comment',
        'Acme channel outage, ticket 123',
      ],
      cliConfig,
    );
    expect(add.code, add.stderr).to.equal(0);
    const id = /^(sil_[0-9a-z]{26}): silences payType=failure partner=Acme@skypay until /.exec(add.stdout)?.[1];
    expect(id, add.stdout).to.be.a('string');
    const madeAt = Date.now();

    // The daemon reads silences again every silences.refreshIntervalMs (1 s): probe until one is silenced.
    const probes: string[] = [];
    await waitUntil(async () => {
      const control = await postFailure(t, ACME);
      probes.push(control);
      return (await eventOf(t.baseUrl, control)).silenced.length === 2;
    }, 5_000);
    note(`a CLI silence held in the running daemon ${Date.now() - madeAt} ms after the command returned`);

    const silenced: string[] = [];
    const others: string[] = [];
    for (let i = 0; i < 5; i++) {
      silenced.push(await postFailure(t, ACME));
      others.push(await postFailure(t, 'AppName@skypay'));
    }
    await slack.waitFor(() => others.every((c) => inSlack(slack).includes(c)), 15_000);
    await smtp.waitFor(() => others.every((c) => inMail(smtp).includes(c)), 15_000);
    const lastProbe = probes[probes.length - 1] ?? '';
    for (const control of [...silenced, lastProbe]) {
      expect(inSlack(slack), `${control} in Slack`).to.not.include(control);
      expect(inMail(smtp), `${control} in mail`).to.not.include(control);
      expect((await eventOf(t.baseUrl, control)).silenced.map((s) => s.silenceId)).to.deep.equal([id, id]);
    }

    const shown = await runCli(['show', silenced[0] ?? ''], cliConfig);
    expect(shown.stdout).to.include(`ops-email: silenced by ${id ?? ''} (not sent; rules problems)`);
    expect(shown.stdout).to.include(`ops-slack: silenced by ${id ?? ''} (not sent; rules problems)`);

    const listed = await runCli(['silence', 'list'], cliConfig);
    expect(listed.stdout).to.match(
      new RegExp(`${id}\\s+active\\s+payType=failure partner=Acme@skypay\\s+slack\\+email`),
    );

    const expired = await admin(t.baseUrl, 'DELETE', `/admin/silences/${id ?? ''}`, { expiredBy: 'bob' });
    expect(expired.status).to.equal(200);
    const restored = await postFailure(t, ACME);
    await slack.waitFor(() => inSlack(slack).includes(restored), 15_000);
    await smtp.waitFor(() => inMail(smtp).includes(restored), 15_000);
    // Nothing held back while it was active went out when it ended.
    for (const control of silenced) expect(inSlack(slack)).to.not.include(control);
    const audit = await runCli(['silence', 'list', '--json'], cliConfig);
    expect(JSON.parse(audit.stdout.trim())).to.deep.include({
      id,
      state: 'expired',
      createdBy: 'alice',
      expiredBy: 'bob',
    });
  });

  it('refuses a CLI silence with a bad flag, naming it, and expires only by name', async () => {
    const noEnd = await runCli(
      ['silence', 'add', '--match', 'payType=failure', '--by', 'a', '--comment', 'c'],
      cliConfig,
    );
    expect(noEnd.code).to.equal(2);
    expect(noEnd.stderr).to.include('give exactly one of --for and --ends-at');
    const badDestination = await runCli(
      [
        'silence',
        'add',
        '--match',
        'payType=failure',
        '--for',
        '1h',
        '--by',
        'a',
        '--comment',
        'c',
        '--destination',
        'pager',
      ],
      cliConfig,
    );
    expect(badDestination.code).to.equal(2);
    expect(badDestination.stderr).to.include('destinations: unknown destination "pager"');
    const unknown = await runCli(['silence', 'expire', 'sil_none', '--by', 'bob'], cliConfig);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include('no silence with id "sil_none"');
  });

  it('names the OS user when --by is left out, as amtool does, and makes a match-everything silence only with --force', async () => {
    const user = os.userInfo().username;
    const everything = ['silence', 'add', '--match', 'payType={"regex":""}', '--for', '1h', '--comment', 'all of it'];
    const refused = await runCli(everything, cliConfig);
    expect(refused.code, refused.stderr).to.equal(2);
    expect(refused.stderr).to.include('would match every payout event');
    const added = await runCli([...everything, '--force', '--json'], cliConfig);
    expect(added.code, added.stderr).to.equal(0);
    const made = JSON.parse(added.stdout.trim()) as Record<string, unknown>;
    expect(made).to.deep.include({ createdBy: user, createdFrom: null });
    expect(String(made['createdVia'])).to.equal(`cli as OS user ${user} on ${os.hostname()}`);

    const expired = await runCli(['silence', 'expire', String(made['id'])], cliConfig);
    expect(expired.code, expired.stderr).to.equal(0);
    expect(expired.stdout).to.include(`by ${user}`);
    const [listed] = (await runCli(['silence', 'list', '--json'], cliConfig)).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((s) => s['id'] === made['id']);
    expect(listed).to.deep.include({ expiredBy: user, expiredVia: made['createdVia'], expiredFrom: null });
  });
});
