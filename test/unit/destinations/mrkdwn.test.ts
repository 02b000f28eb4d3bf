import { expect } from 'chai';
import { escapeMrkdwn, escapeMrkdwnWithin } from '../../../src/destinations/mrkdwn';

describe('destinations/mrkdwn', () => {
  it("turns formatting characters into lookalikes and entities into Slack's escapes", () => {
    expect(escapeMrkdwn('*bold* _it_ ~strike~ `code` <http://evil|click> a & b')).to.equal(
      '∗bold∗ ˍitˍ ∼strike∼ ˋcodeˋ &lt;http://evil|click&gt; a &amp; b',
    );
  });

  it('keeps underscores inside words and ids, which never format', () => {
    expect(escapeMrkdwn('ACCOUNT_CLOSED rej_01J8Z6 _x')).to.equal('ACCOUNT_CLOSED rej_01J8Z6 ˍx');
  });

  it('caps without cutting an entity or a surrogate pair', () => {
    expect(escapeMrkdwnWithin('ab&cd', 6)).to.equal('ab…');
    expect(escapeMrkdwnWithin('ab&cd', 8)).to.equal('ab&amp;…');
    expect(escapeMrkdwnWithin('a😀b', 3)).to.equal('a…');
    expect(escapeMrkdwnWithin('short', 5)).to.equal('short');
  });
});
