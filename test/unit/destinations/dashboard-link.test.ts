import { expect } from 'chai';
import { buildEmailContent } from '../../../src/destinations/email-content';
import { eventPageUrl } from '../../../src/destinations/present';
import { buildSlackMessage } from '../../../src/destinations/slack';
import { buildPayoutEvent } from '../../support/fixtures';

describe('links to the dashboard in Slack and email (ui.publicUrl)', () => {
  const event = buildPayoutEvent({ id: 'evt_link1' });

  it('builds the event page URL under the public URL, encoding odd ids', () => {
    expect(eventPageUrl('https://relay.example.com/', 'evt_1')).to.equal('https://relay.example.com/ui/events/evt_1');
    expect(eventPageUrl('https://x.example/base', 'a|b>c')).to.equal('https://x.example/base/ui/events/a%7Cb%3Ec');
    expect(eventPageUrl(undefined, 'evt_1')).to.equal(undefined);
  });

  it('adds an "Open in dashboard" link to Slack messages only when set', () => {
    const withLink = JSON.stringify(buildSlackMessage(event, 'dlv_1', '+08:00', 'https://relay.example.com'));
    expect(withLink).to.contain('<https://relay.example.com/ui/events/evt_link1|Open in dashboard>');
    expect(JSON.stringify(buildSlackMessage(event, 'dlv_1', '+08:00'))).to.not.contain('dashboard');
  });

  it('adds the link to both parts of the mail only when set', () => {
    const context = { deliveryId: 'dlv_1', rules: ['r'], subjectPrefix: '[skyrelay]' };
    const mail = buildEmailContent(event, { ...context, publicUrl: 'https://relay.example.com' });
    expect(mail.text).to.contain('Open in dashboard: https://relay.example.com/ui/events/evt_link1');
    expect(mail.html).to.contain('<a href="https://relay.example.com/ui/events/evt_link1">Open in dashboard</a>');
    const plain = buildEmailContent(event, context);
    expect(plain.text + plain.html).to.not.contain('dashboard');
  });
});
