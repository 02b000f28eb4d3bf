import { expect } from 'chai';
import { maskSecrets } from '../../../src/skypay/mask';

describe('skypay/mask', () => {
  it('masks the authentication field wherever it stands, even in broken JSON', () => {
    expect(maskSecrets('{"userName":"a","authentication":"K-123"}', [])).to.equal(
      '{"userName":"a","authentication":"***"}',
    );
    expect(maskSecrets('{"authentication" : "K\\"1", "x":1', [])).to.equal('{"authentication" : "***", "x":1');
    expect(maskSecrets('{"authentication":12345}', [])).to.equal('{"authentication":"***"}');
  });

  it('masks every configured secret that appears anywhere', () => {
    expect(maskSecrets('{"note":"my key is SECRET-KEY-1"}', ['SECRET-KEY-1'])).to.equal('{"note":"my key is ***"}');
  });

  it('caps what is kept', () => {
    const kept = maskSecrets('x'.repeat(100_000), []);
    expect(kept.length).to.be.lessThan(17_000);
    expect(kept).to.match(/truncated 83616 chars/);
  });
});
