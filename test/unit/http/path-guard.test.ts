import { expect } from 'chai';
import { canonicalPath, isWithin } from '../../../src/http/path-guard';

describe('http/path-guard', () => {
  it('reads a path the most lenient way: escapes (even doubled), slashes, dot segments, case', () => {
    const cases: [string, string][] = [
      ['/admin/events', '/admin/events'],
      ['/ADMIN/Events/', '/admin/events'],
      ['//admin///events//', '/admin/events'],
      ['/%61dmin/events', '/admin/events'],
      ['/%2561dmin/events', '/admin/events'],
      ['/admin%2Fx', '/admin/x'],
      ['/admin%5cevents', '/admin/events'],
      ['/x/../admin/./events', '/admin/events'],
      ['/../../admin', '/admin'],
      ['admin/events', '/admin/events'],
      ['/', '/'],
      ['', '/'],
      ['/%zz/%e0%a4%a', '/%zz/\u00e0\u00a4%a'],
    ];
    for (const [raw, canonical] of cases) expect(canonicalPath(raw), raw).to.equal(canonical);
  });

  it('says whether a path is a prefix or below it, never a mere string prefix', () => {
    expect(isWithin('/ADMIN', '/admin')).to.equal(true);
    expect(isWithin('/admin/events/x', '/admin')).to.equal(true);
    expect(isWithin('/%61dmin//nope', '/admin/')).to.equal(true);
    expect(isWithin('/administrator', '/admin')).to.equal(false);
    expect(isWithin('/admin-events', '/admin')).to.equal(false);
    expect(isWithin('/callbacks/skypay', '/metrics')).to.equal(false);
    expect(isWithin('/anything', '/')).to.equal(true);
  });
});
