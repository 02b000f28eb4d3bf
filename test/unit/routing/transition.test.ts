import { expect } from 'chai';
import { create } from 'superstruct';
import type { RelayEvent } from '../../../src/event';
import { compileRules, routeEvent } from '../../../src/routing/match';
import { RuleConfig, type MatcherValue } from '../../../src/routing/schema';
import { buildDeadDeliveryEvent, buildPaidEvent, buildPayoutEvent } from '../../support/fixtures';

function fires(field: string, matcher: MatcherValue, event: RelayEvent): boolean {
  return routeEvent(event, compileRules([{ name: 'r', match: { [field]: matcher }, to: ['d'] }])).length === 1;
}

const conflict = buildPayoutEvent({ transition: { from: 'paid', to: 'paid', kind: 'conflict' } });
const forward = buildPaidEvent({ transition: { from: 'uploaded', to: 'paid', kind: 'forward' } });
const first = buildPaidEvent({ transition: { from: null, to: 'paid', kind: 'first' } });
const unjudged = buildPaidEvent({ extra: { state: 'from SkyPay' } });

describe('rules on the payout lifecycle', () => {
  it('match transition.kind', () => {
    expect(fires('transition.kind', 'conflict', conflict)).to.equal(true);
    expect(fires('transition.kind', ['after-final', 'conflict'], forward)).to.equal(false);
    expect(fires('transition.kind', { not: 'forward' }, conflict)).to.equal(true);
  });

  it('match transition.from and transition.to, with a first status having no from', () => {
    expect(fires('transition.from', 'uploaded', forward)).to.equal(true);
    expect(fires('transition.to', 'paid', forward)).to.equal(true);
    expect(fires('transition.from', { exists: false }, first)).to.equal(true);
    expect(fires('transition.from', { exists: true }, first)).to.equal(false);
  });

  it("match the payout state after the callback as `payout.state`, also on skyrelay's payout events", () => {
    expect(fires('payout.state', 'paid', conflict)).to.equal(true);
    expect(fires('payout.state', 'failed', conflict)).to.equal(false);
    const stuck = buildDeadDeliveryEvent({ type: 'payout.stuck', data: { state: 'uploaded', controlNumber: 'SK1' } });
    expect(fires('payout.state', 'uploaded', stuck)).to.equal(true);
  });

  it('an event stored before payouts were kept has no transition (an extra field does not stand in)', () => {
    expect(fires('transition.kind', { exists: false }, unjudged)).to.equal(true);
    expect(fires('payout.state', { exists: false }, unjudged)).to.equal(true);
    // A SkyPay extra named like a payout field keeps matching as before.
    expect(fires('state', 'from SkyPay', unjudged)).to.equal(true);
  });

  it('refuse an unknown kind or state when the config loads, naming the field and the choices', () => {
    expect(() => create({ name: 'r', match: { 'transition.kind': 'afterfinal' }, to: ['d'] }, RuleConfig)).to.throw(
      /transition\.kind: unknown value "afterfinal" \(expected one of first, forward, amendment, late, after-final, conflict\)/,
    );
    expect(() => create({ name: 'r', match: { 'payout.state': ['paid', 'done'] }, to: ['d'] }, RuleConfig)).to.throw(
      /payout\.state: unknown value "done"/,
    );
    expect(() =>
      create({ name: 'r', match: { 'transition.kind': { prefix: 'a' } }, to: ['d'] }, RuleConfig),
    ).not.to.throw();
  });
});

describe('rules on the confirmation of a final status', () => {
  it("match `payout.confirmation` on a payout status and on skyrelay's payout events", () => {
    const pending = buildPaidEvent({
      transition: { from: 'uploaded', to: 'paid', kind: 'forward' },
      confirmation: 'pending',
    });
    expect(fires('payout.confirmation', 'pending', pending)).to.equal(true);
    expect(fires('payout.confirmation', 'confirmed', pending)).to.equal(false);
    const confirmed = buildDeadDeliveryEvent({
      type: 'payout.confirmed',
      data: { state: 'paid', confirmation: 'confirmed', controlNumber: 'SK1' },
    });
    expect(fires('payout.confirmation', 'confirmed', confirmed)).to.equal(true);
    // Stored before confirmation was kept: no value.
    expect(fires('payout.confirmation', { exists: false }, forward)).to.equal(true);
  });

  it('refuse an unknown confirmation when the config loads', () => {
    expect(() => create({ name: 'r', match: { 'payout.confirmation': 'verified' }, to: ['d'] }, RuleConfig)).to.throw(
      /payout\.confirmation: unknown value "verified" \(expected one of pending, confirmed, contradicted, off\)/,
    );
  });
});
