import { expect } from 'chai';
import { Backstop } from '../../../src/delivery/backstop';
import { waitUntil } from '../../support/daemon';

describe('delivery backstop: a send still running past its deadline is aborted', () => {
  it('aborts the sends still open, with a TimeoutError naming the deadline, and leaves ended ones alone', async () => {
    let clock = 0;
    const backstop = new Backstop(30, 'no answer within 20 ms', () => clock);
    const ended = backstop.take();
    const stuck = backstop.take();
    // Sends starting within one slice share one abort; a later one gets its own.
    expect(stuck.signal).to.equal(ended.signal);
    ended.done();
    clock = 1_000;
    const later = backstop.take();
    expect(later.signal).not.to.equal(stuck.signal);
    later.done();
    await waitUntil(() => stuck.signal.aborted, 'the stuck send aborted');
    const reason = stuck.signal.reason as DOMException;
    expect([reason.name, reason.message]).to.deep.equal(['TimeoutError', 'no answer within 20 ms']);
    stuck.done();
    stuck.done();
    // The later slice had nothing open when its time came (before the last one's): its signal is never aborted.
    clock = 2_000;
    const last = backstop.take();
    expect(last.signal).not.to.equal(later.signal);
    await waitUntil(() => last.signal.aborted, 'the last send aborted');
    expect(later.signal.aborted).to.equal(false);
  });
});
