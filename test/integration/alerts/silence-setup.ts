import { expect } from 'chai';
import type { TestDaemon } from '../../support/daemon';
import type { Receiver } from '../../support/receiver';
import { SAMPLE_AUTH, buildCallback, dealTimeFromNow, postCallback } from '../../support/skypay';
import type { SmtpServerHandle } from '../../support/smtp';

/** What the silence suites share: two partners, Slack and email for failures, a webhook feed for everything. */
export const ADMIN_TOKEN = 'admin-token-for-silence-tests-01';
export const ACME = 'Acme@skypay';
const ACME_AUTH = 'ACME-AUTH-KEY-FOR-SILENCE-TESTS-1';
export const WEBHOOK_SECRET = `whsec_${Buffer.from('silence-tests-signing-secret-0001').toString('base64')}`;

export function silenceConfig(slack: Receiver, smtp: SmtpServerHandle, ledger: Receiver): Record<string, unknown> {
  return {
    skypay: {
      partners: [
        { userName: 'AppName@skypay', authentication: [SAMPLE_AUTH], encryptKeys: [] },
        { userName: ACME, authentication: [ACME_AUTH], encryptKeys: [] },
      ],
    },
    destinations: {
      'ops-slack': { type: 'slack', url: `${slack.url}/services/T0/B0/silences` },
      'ops-email': { type: 'email', transport: smtp.url, from: 'skyrelay@example.com', to: ['ops@example.com'] },
      ledger: { type: 'webhook', url: `${ledger.url}/hooks`, secret: WEBHOOK_SECRET },
    },
    rules: [
      { name: 'problems', match: { payType: 'failure' }, to: ['ops-slack', 'ops-email'] },
      { name: 'feed', to: ['ledger'] },
    ],
    delivery: { pollIntervalMs: 100, initialBackoffMs: 100 },
    admin: { token: ADMIN_TOKEN },
  };
}

/** Posts a failure callback from `partner`; resolves with its control number once it got 1000. */
export async function postFailure(t: Pick<TestDaemon, 'callbackUrl'>, partner: string): Promise<string> {
  const body = buildCallback({
    userName: partner,
    authentication: partner === ACME ? ACME_AUTH : SAMPLE_AUTH,
    payType: '4',
    dealTime: dealTimeFromNow(),
    failDescription: 'channel down',
  });
  const res = await postCallback(t.callbackUrl, body);
  expect(res.json?.['responseCode'], res.text).to.equal('1000');
  return String(body['controlNumber']);
}

export async function admin(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  token: string = ADMIN_TOKEN,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The event detail of a control number, through the admin API (as an operator sees it). */
export async function eventOf(
  baseUrl: string,
  controlNumber: string,
): Promise<{ deliveries: { destination: string }[]; silenced: { destination: string; silenceId: string }[] }> {
  const list = await admin(baseUrl, 'GET', `/admin/events?controlNumber=${controlNumber}`);
  const [summary] = list.json['items'] as { id: string }[];
  expect(summary, `an event for ${controlNumber}`).to.not.equal(undefined);
  const detail = await admin(baseUrl, 'GET', `/admin/events/${summary?.id ?? ''}`);
  return detail.json as never;
}

/** Control numbers a Slack message, a mail or a webhook named. */
export const inSlack = (slack: Receiver): string[] =>
  slack.requests.map((r) => /SKY99\d{10}/.exec(r.body)?.[0] ?? '').filter((c) => c !== '');
export const inMail = (smtp: SmtpServerHandle): string[] =>
  smtp.messages.map((m) => /SKY99\d{10}/.exec(m.parsed.subject ?? '')?.[0] ?? '').filter((c) => c !== '');
export const inWebhooks = (ledger: Receiver): string[] =>
  ledger.requests.map((r) => /SKY99\d{10}/.exec(r.body)?.[0] ?? '').filter((c) => c !== '');
