import { expect } from 'chai';
import { decryptBody, deriveAesKey, encryptBody } from '../../../src/skypay/crypto';

// From ../shared/skypay/README.md: computed with the openssl command line, not with Node.
const VECTOR = {
  encryptKey: 'SkyPayDemoKey2026',
  aesKeyHex: '6e0ea507c5e16748da26c26ab149dca0',
  plaintext:
    '{"userName":"AppName@skypay","action":"payoutQueuePayout","authentication":"30AC21B2-9EAA-4503-B0F0-7BE5C277ED75","controlNumber":"SK99123456789","payType":"1","dealTime":"2018-08-07 11:58:33","referenceNumber":"MLA001041380755361119"}',
  ciphertext:
    'ceztfixTVf9DWiRIzC0N1T/6y6zpsBLcMSdZZ2ts1rwZlX0N5FSuppTrR9ODW0zbR+Sd+AcstlSJeviwm/AYq0BMT45FL2rCKraqHuKRAoyJufaXOLhXKLAsb7Faht/EI5quzxwfy6arpQDoD4Bd6Mf73Ad+FGXImgeUMYkVjI2IoaHds29zNfUFmMCh0JdpWUnGUxQrBdYRH9ax/w1TaNVaMBn+5zEK9PBW7miLbnJiXwxvXc8S8B82jq1qKf6Yy0Kx5hLwkl06mvZZtkFF4FPCUd/craA+6EruhiTPM5LB9nLnUd4XyPry0LvIvLv/',
  reply: '{"responseTime":"2018-06-18 17:52:10.5211","responseCode":"1000","responseDescription":"Success"}',
  replyCiphertext:
    'RvEIW+rAipzIGPLWrPD4jGcH7yoD/lp7Hx+LegAwcXGkFLUcCMTqgzgln+kUSeJs+ByK4oM6ikK87QaK03OQxzuw7uuO/DuT+PF4KebzCHVjG9Fs8cMpHAjJbc9PwaD1foaQ1NwcrEu+YeNbwpQg8Q==',
};

describe('skypay/crypto (interop vector)', () => {
  const key = deriveAesKey(VECTOR.encryptKey);

  it('derives the AES key as the first 16 bytes of SHA1(SHA1(encryptKey))', () => {
    expect(key.toString('hex')).to.equal(VECTOR.aesKeyHex);
  });

  it("decrypts SkyPay's ciphertext to the documented plaintext", () => {
    expect(decryptBody(VECTOR.ciphertext, key)).to.equal(VECTOR.plaintext);
  });

  it('encrypts the plaintext and the reply byte for byte as openssl does', () => {
    expect(encryptBody(VECTOR.plaintext, key)).to.equal(VECTOR.ciphertext);
    expect(encryptBody(VECTOR.reply, key)).to.equal(VECTOR.replyCiphertext);
  });

  it('tolerates line breaks in the Base64 (as Java encoders insert)', () => {
    const wrapped = VECTOR.ciphertext.replace(/(.{76})/g, '$1\r\n');
    expect(decryptBody(wrapped, key)).to.equal(VECTOR.plaintext);
  });

  it('returns undefined, never throws, for a wrong key, truncation or junk', () => {
    expect(decryptBody(VECTOR.ciphertext, deriveAesKey('another key'))).to.equal(undefined);
    expect(decryptBody(VECTOR.ciphertext.slice(0, 40), key)).to.equal(undefined);
    expect(decryptBody(VECTOR.ciphertext.slice(0, -4), key)).to.equal(undefined);
    expect(decryptBody('not base64 at all!', key)).to.equal(undefined);
    expect(decryptBody('', key)).to.equal(undefined);
  });
});
