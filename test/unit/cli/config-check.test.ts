import { expect } from 'chai';
import { describeConfig } from '../../../src/cli/config-check';
import { validateConfig } from '../../../src/config/load';
import { mergeDeep, readDefaultConfig } from '../../support/config';

const SECRET = `whsec_${Buffer.from('config-check-signing-secret-01').toString('base64')}`;

describe('cli/config-check: describeConfig', () => {
  const config = validateConfig(
    mergeDeep(readDefaultConfig(), {
      destinations: { hook: { type: 'webhook', url: 'https://consumer.example/in', secret: SECRET } },
      rules: [
        { name: 'everything', to: ['hook'] },
        { name: 'never', match: { type: 'finance', status: 'paid' }, to: ['hook'] },
        { name: 'alerts', match: { source: 'skyrelay' }, to: ['hook'] },
      ],
    }),
  );
  const lines = describeConfig(config);

  it('says how long a payout may wait in each open state', () => {
    expect(lines).to.include('stuck after: uploaded 3 d, amendedSuccess 3 d, amendedFailure 24 h');
  });

  it('says a whole family of types once', () => {
    const at = lines.indexOf('  everything → hook');
    expect(lines.slice(at + 1, at + 3)).to.deep.equal([
      '    match:    (every payout and finance notification)',
      '    receives: skypay.payout.*, skypay.finance.*',
    ]);
    expect(lines[lines.indexOf('  alerts → hook') + 2]).to.equal('    receives: skyrelay.*');
  });

  it('warns of a rule that no event type fits, and lists it as receiving none', () => {
    expect(lines).to.include(
      '  - rules.1.match: no event type has the source, type, payType, status and signType it asks for; ' +
        'rule "never" will never fire',
    );
    expect(lines[lines.indexOf('  never → hook') + 2]).to.equal('    receives: none');
  });
});
