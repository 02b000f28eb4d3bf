import { expect } from 'chai';
import { describeGroupReplay, unionRules } from '../../../src/alerts/decisions';

describe('alerts/decisions: what a group message carries and why a replay leaves a member to it', () => {
  it('unites the members’ rule lists, each name once, in first-seen order', () => {
    expect(unionRules(['["b","a"]', '["a","c"]', '[]', '["b"]'])).to.deep.equal(['b', 'a', 'c']);
    expect(unionRules([])).to.deep.equal([]);
  });

  it('says where a grouped member went: its group’s next message, still waiting, or a message to replay', () => {
    expect(describeGroupReplay('ops', undefined)).to.equal(
      "joined its group for ops: the group's next message carries it",
    );
    expect(describeGroupReplay('ops', null)).to.equal('waiting in its group for ops');
    expect(describeGroupReplay('ops', 'evt_1')).to.equal(
      "carried by group message evt_1 to ops: replay that message's delivery",
    );
  });
});
