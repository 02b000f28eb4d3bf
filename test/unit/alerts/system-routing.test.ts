import { expect } from 'chai';
import { buildDeadDeliveryEvent, buildRejectionEvent, carriesDeadAlert } from '../../../src/alerts/build';
import type { AttemptReport } from '../../../src/delivery/types';
import { compileRules } from '../../../src/routing/match';
import { planRoutes } from '../../../src/routing/plan';
import type { RuleConfig } from '../../../src/routing/schema';
import {
  buildDeadDeliveryEvent as sampleDead,
  buildPayoutEvent,
  buildRejectionEvent as sampleRejection,
} from '../../support/fixtures';

const rules: RuleConfig[] = [
  { name: 'ledger-feed', to: ['ledger'] },
  { name: 'ops-failures', match: { status: 'failure' }, to: ['slack'] },
  { name: 'partner-x', match: { partner: { exists: false } }, to: ['audit'] },
  { name: 'alerts', match: { source: 'skyrelay' }, to: ['email'] },
  { name: 'dead-only', match: { type: 'delivery.dead' }, to: ['pager'] },
];
const compiled = compileRules(rules);
const destinationsFor = (event: Parameters<typeof planRoutes>[0]) =>
  planRoutes(event, compiled).map((r) => r.destination);

describe("routing of skyrelay's own events", () => {
  it('reaches only rules whose match names source or type: catch-alls and payout rules stay quiet', () => {
    expect(destinationsFor(sampleRejection())).to.deep.equal(['email']);
    expect(destinationsFor(sampleDead())).to.deep.equal(['email', 'pager']);
  });

  it('leaves payout routing as it was', () => {
    expect(destinationsFor(buildPayoutEvent())).to.deep.equal(['ledger', 'slack']);
  });
});

describe('alert events', () => {
  const secret = '30AC21B2-9EAA-4503-B0F0-7BE5C277ED75';

  it('describe a rejection with reason, status, partner and address, and mask any secret in the description', () => {
    const event = buildRejectionEvent(
      {
        id: 'rej_1',
        receivedAt: new Date('2026-01-01T00:00:00Z'),
        remoteAddress: '203.0.113.7',
        method: 'POST',
        path: '/callbacks/skypay',
        contentType: 'application/json',
        status: 401,
        reason: 'unauthenticated',
        description: `key ${secret} is wrong`,
        partner: undefined,
        body: `{"authentication":"${secret}"}`,
      },
      [secret],
    );
    expect(event).to.include({ source: 'skyrelay', type: 'rejection', receivedAt: '2026-01-01T00:00:00.000Z' });
    expect(event.data).to.include({
      reason: 'unauthenticated',
      status: 401,
      partner: null,
      remoteAddress: '203.0.113.7',
      rejectionId: 'rej_1',
    });
    expect(JSON.stringify(event)).not.to.contain(secret);
  });

  it('describe a dead delivery, and mark a dead delivery.dead alert so it raises nothing', () => {
    const payout = buildPayoutEvent();
    const report: AttemptReport = {
      delivery: {
        id: 'dlv_1',
        eventId: payout.id,
        destination: 'slack',
        rules: ['ops-failures'],
        attempt: 3,
        event: payout,
      },
      attempt: { startedAt: 0, durationMs: 5, outcome: 'dead', status: 404, error: 'HTTP 404' },
      next: { state: 'dead' },
      deadReason: 'permanent failure, not retried: HTTP 404',
    };
    const dead = buildDeadDeliveryEvent(report, new Date(0));
    expect(dead.data).to.include({
      destination: 'slack',
      deliveryId: 'dlv_1',
      attempts: 3,
      lastStatus: 404,
      lastError: 'permanent failure, not retried: HTTP 404',
      controlNumber: payout.controlNumber,
      payoutStatus: 'failure',
    });
    expect(carriesDeadAlert(report)).to.equal(false);
    expect(carriesDeadAlert({ ...report, delivery: { ...report.delivery, event: dead } })).to.equal(true);
  });
});
