import { expect } from 'chai';
import { decryptBody, deriveAesKey, encryptBody } from '../../../src/skypay/crypto';
import {
  StatusQueryRejectedError,
  StatusQueryRequestError,
  StatusQueryUnreadableError,
  buildStatusQueryRequest,
  cleanAnswerText,
  parseStatusQueryReply,
  type StatusQueryResult,
} from '../../../src/skypay/status-query';

const KEY = deriveAesKey('SkyPayDemoKey2026');
const CREDENTIALS = { userName: 'AppName@skypay', authentication: '30AC21B2-9EAA-4503-B0F0-7BE5C277ED75' };
const CN = (n: number): string => `SKY99${String(n).padStart(10, '0')}`;

const encrypted = (reply: unknown): string => encryptBody(JSON.stringify(reply), KEY);

function expectResult(value: ReturnType<typeof parseStatusQueryReply>): StatusQueryResult {
  if (value instanceof Error) throw value;
  return value;
}

describe('skypay/status-query: the request', () => {
  it('is the 7.1 JSON: userName, action payoutQueryStatus, authentication, controlNumbers as objects', () => {
    const json = JSON.parse(buildStatusQueryRequest([CN(1), CN(2)], CREDENTIALS)) as Record<string, unknown>;
    expect(json).to.deep.equal({
      userName: 'AppName@skypay',
      action: 'payoutQueryStatus',
      authentication: CREDENTIALS.authentication,
      controlNumbers: [{ controlNumber: CN(1) }, { controlNumber: CN(2) }],
    });
  });

  it('round-trips through SkyPay transport encryption under the partner key', () => {
    const plain = buildStatusQueryRequest([CN(1)], CREDENTIALS);
    expect(decryptBody(encryptBody(plain, KEY), KEY)).to.equal(plain);
  });

  it('takes 50 control numbers, refuses 51 (counted after dropping repeats), none, and malformed ones', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => CN(i));
    expect(() => buildStatusQueryRequest(fifty, CREDENTIALS)).not.to.throw();
    expect(() => buildStatusQueryRequest([...fifty, CN(0)], CREDENTIALS)).not.to.throw();
    expect(() => buildStatusQueryRequest([...fifty, CN(50)], CREDENTIALS))
      .to.throw(StatusQueryRequestError)
      .with.property('message')
      .that.includes('at most 50 control numbers (got 51)');
    expect(() => buildStatusQueryRequest([], CREDENTIALS)).to.throw(StatusQueryRequestError);
    expect(() => buildStatusQueryRequest(['SK1'], CREDENTIALS)).to.throw(StatusQueryRequestError, /13 to 15/);
  });
});

describe('skypay/status-query: reading the answer', () => {
  it('reads the documentation\'s sample leniently: numbers as strings, empty times as "", no traceNo', () => {
    const reply = {
      responseTime: '2018-06-18 17:52:10.5211',
      responseCode: '1000',
      responseDescription: 'Success',
      controlNumbers: [
        {
          controlNumber: CN(1),
          transactionDate: '2019-01-14 15:47:13',
          status: '4',
          statusDesc: 'Failed',
          payTime: '',
          cancelTime: '',
          withdrawChannel: 'Bank',
          referenceNo: '',
        },
      ],
    };
    const result = expectResult(parseStatusQueryReply(encrypted(reply), KEY, [CN(1)]));
    expect(result.payouts).to.deep.equal([
      {
        controlNumber: CN(1),
        status: 4,
        statusDesc: 'Failed',
        transactionDate: '2019-01-14 15:47:13',
        payTime: '',
        cancelTime: '',
        withdrawChannel: 'Bank',
        referenceNo: '',
        traceNo: '',
      },
    ]);
    expect(result.missing).to.deep.equal([]);
    expect(result.responseTime).to.equal('2018-06-18 17:52:10.5211');
  });

  it('takes numbers as numbers, null times as "", and drops the documented .fff fraction of a time', () => {
    const reply = {
      responseCode: 1000,
      controlNumbers: [
        { controlNumber: CN(1), status: 1, payTime: '2026-11-27 10:00:01.123', cancelTime: null, withdrawChannel: 3 },
      ],
    };
    const [payout] = expectResult(parseStatusQueryReply(encrypted(reply), KEY, [CN(1), CN(2)])).payouts;
    expect(payout).to.include({ status: 1, payTime: '2026-11-27 10:00:01', cancelTime: '', withdrawChannel: '3' });
    expect(expectResult(parseStatusQueryReply(encrypted(reply), KEY, [CN(1), CN(2)])).missing).to.deep.equal([CN(2)]);
  });

  it('reports an unreadable item without losing the others', () => {
    const reply = {
      responseCode: '1000',
      controlNumbers: [
        { controlNumber: CN(1), status: 'Completed' },
        'junk',
        { controlNumber: CN(3), status: '2', transactionDate: 'yesterday' },
        { controlNumber: CN(4), status: '2' },
      ],
    };
    const result = expectResult(parseStatusQueryReply(encrypted(reply), KEY, [CN(1), CN(3), CN(4)]));
    expect(result.payouts.map((p) => p.controlNumber)).to.deep.equal([CN(4)]);
    expect(result.unreadable).to.deep.equal([
      { index: 0, controlNumber: CN(1), reason: 'status is not a number' },
      { index: 1, controlNumber: undefined, reason: 'not an object' },
      { index: 2, controlNumber: CN(3), reason: 'transactionDate is not written yyyy-MM-dd HH:mm:ss' },
    ]);
    expect(result.missing, 'an unreadable item was answered, not missing').to.deep.equal([]);
  });

  it('turns a non-1000 code into a StatusQueryRejectedError with the code, encrypted or plain', () => {
    const reply = { responseCode: '-9999', responseDescription: 'Service not available' };
    for (const body of [encrypted(reply), JSON.stringify(reply)]) {
      const err = parseStatusQueryReply(body, KEY, [CN(1)]);
      expect(err).to.be.instanceOf(StatusQueryRejectedError);
      expect(err).to.include({ code: '-9999', description: 'Service not available' });
    }
  });

  it('refuses a plain (unencrypted) success: only SkyPay holds the key that may say a payout is paid', () => {
    const reply = { responseCode: '1000', controlNumbers: [{ controlNumber: CN(1), status: '1' }] };
    const err = parseStatusQueryReply(JSON.stringify(reply), KEY, [CN(1)]);
    expect(err).to.be.instanceOf(StatusQueryUnreadableError);
    expect((err as Error).message).to.include('must be encrypted');
  });

  it('calls garbage, another key, a missing code and a non-list unreadable', () => {
    const other = deriveAesKey('another key');
    const cases = [
      '<html>502 Bad Gateway</html>',
      encryptBody(JSON.stringify({ responseCode: '1000' }), other),
      encrypted({ responseDescription: 'Success' }),
      encrypted({ responseCode: '1000', controlNumbers: 'none' }),
      encrypted([1, 2]),
    ];
    for (const body of cases)
      expect(parseStatusQueryReply(body, KEY, [CN(1)])).to.be.instanceOf(StatusQueryUnreadableError);
  });
});

describe("skypay/status-query: SkyPay's texts as kept and logged", () => {
  it('escapes control characters and keeps at most 256 characters, saying how long the text was', () => {
    expect(cleanAnswerText('Completed')).to.equal('Completed');
    expect(cleanAnswerText('a\u001b[2J\nb\u009b')).to.equal('a\\x1b[2J\\nb\\u009b');
    const cut = cleanAnswerText('z'.repeat(10_240));
    expect(cut).to.have.length(256);
    expect(cut).to.match(/^z+… \(10240 characters\)$/);
    // Escapes that grow a short text past the cap are cut too, and never half a surrogate pair is kept.
    expect(cleanAnswerText('\u0001'.repeat(200))).to.have.length.at.most(256);
    expect(cleanAnswerText(`${'a'.repeat(234)}😀${'b'.repeat(100)}`)).not.to.match(
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/,
    );
  });

  it("cuts a statusDesc and an error's description and code as they are read", () => {
    const desc = `Failed\n${'x'.repeat(10_000)}`;
    const reply = {
      responseCode: '1000',
      controlNumbers: [{ controlNumber: CN(1), status: '4', statusDesc: desc, transactionDate: '' }],
    };
    const [item] = expectResult(parseStatusQueryReply(encrypted(reply), KEY, [CN(1)])).payouts;
    expect(item?.statusDesc).to.have.length(256);
    expect(item?.statusDesc.startsWith('Failed\\nxxx')).to.equal(true);
    const err = parseStatusQueryReply(
      JSON.stringify({ responseCode: '-9999', responseDescription: 'd'.repeat(900 * 1024) }),
      KEY,
      [CN(1)],
    );
    expect(err).to.be.instanceOf(StatusQueryRejectedError);
    expect((err as StatusQueryRejectedError).description).to.have.length(256);
    expect((err as Error).message.length).to.be.below(320);
  });
});
