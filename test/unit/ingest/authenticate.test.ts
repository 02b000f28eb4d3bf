import { expect } from 'chai';
import { EncryptionRequiredError, UnauthenticatedError } from '../../../src/ingest/rejections';
import { authenticateCallback } from '../../../src/ingest/authenticate';
import { deriveAesKey } from '../../../src/skypay/crypto';
import { preparePartners } from '../../../src/skypay/partners';

describe('ingest/authenticate', () => {
  const partners = preparePartners([
    { userName: 'plain@skypay', authentication: ['OLD-KEY', 'NEW-KEY'], encryptKeys: [] },
    { userName: 'secure@skypay', authentication: ['SECURE-KEY'], encryptKeys: ['enc-new', 'enc-old'] },
    { userName: 'other@skypay', authentication: ['OTHER-KEY'], encryptKeys: ['enc-other'] },
  ]);

  it("accepts any of a partner's active keys, so keys rotate without downtime", () => {
    expect(
      authenticateCallback({ userName: 'plain@skypay', authentication: 'OLD-KEY' }, partners, undefined).userName,
    ).to.equal('plain@skypay');
    expect(
      authenticateCallback({ userName: 'plain@skypay', authentication: 'NEW-KEY' }, partners, undefined).userName,
    ).to.equal('plain@skypay');
  });

  it('refuses unknown partners, wrong keys, missing keys and non-string keys with 401', () => {
    for (const body of [
      { userName: 'nobody@skypay', authentication: 'OLD-KEY' },
      { userName: 'plain@skypay', authentication: 'OLD-KEY ' },
      { userName: 'plain@skypay', authentication: 'old-key' },
      { userName: 'plain@skypay' },
      { userName: 'plain@skypay', authentication: ['OLD-KEY'] },
      { authentication: 'OLD-KEY' },
    ]) {
      expect(() => authenticateCallback(body, partners, undefined))
        .to.throw(UnauthenticatedError)
        .with.property('status', 401);
    }
  });

  it('refuses plain JSON for a partner configured with encrypt keys', () => {
    expect(() =>
      authenticateCallback({ userName: 'secure@skypay', authentication: 'SECURE-KEY' }, partners, undefined),
    ).to.throw(EncryptionRequiredError);
  });

  it("accepts either of a partner's encrypt keys, and never another partner's", () => {
    const body = { userName: 'secure@skypay', authentication: 'SECURE-KEY' };
    expect(authenticateCallback(body, partners, deriveAesKey('enc-old')).userName).to.equal('secure@skypay');
    expect(() => authenticateCallback(body, partners, deriveAesKey('enc-other'))).to.throw(UnauthenticatedError);
  });

  it('never puts the key it was given in the error', () => {
    try {
      authenticateCallback({ userName: 'plain@skypay', authentication: 'GUESSED-SECRET' }, partners, undefined);
    } catch (err) {
      expect((err as Error).message).not.to.contain('GUESSED-SECRET');
      return;
    }
    throw new Error('expected a rejection');
  });
});
