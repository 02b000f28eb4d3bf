import { expect } from 'chai';
import { scrubSenderText } from '../../../src/skypay/scrub';

describe('skypay/scrub', () => {
  it('masks the authentication field wherever it stands, even in broken JSON', () => {
    expect(scrubSenderText('{"userName":"a","authentication":"K-123"}', [])).to.equal(
      '{"userName":"a","authentication":"***"}',
    );
    expect(scrubSenderText('{"authentication" : "K\\"1", "x":1', [])).to.equal('{"authentication" : "***", "x":1');
    expect(scrubSenderText('{"authentication":12345}', [])).to.equal('{"authentication":"***"}');
  });

  it('masks every configured secret that appears anywhere', () => {
    expect(scrubSenderText('{"note":"my key is SECRET-KEY-1"}', ['SECRET-KEY-1'])).to.equal('{"note":"my key is ***"}');
  });

  it('masks a configured secret in any case, and its base64 and hex forms', () => {
    const key = 'SECRET-KEY-0123456789';
    const text = `{"note":"${key.toLowerCase()}","b64":"${Buffer.from(`k=${key}`).toString('base64')}","hex":"${Buffer.from(key).toString('hex').toUpperCase()}"}`;
    const kept = scrubSenderText(text, [key]);
    expect(kept).to.match(/^\{"note":"\*\*\*","b64":"\w{0,3}\*\*\*\w{0,3}=*","hex":"\*\*\*"\}$/);
  });

  it('caps what is kept', () => {
    const kept = scrubSenderText('x'.repeat(100_000), []);
    expect(kept.length).to.be.lessThan(17_000);
    expect(kept).to.match(/truncated 83616 chars/);
  });
});
