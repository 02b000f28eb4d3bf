import { expect } from 'chai';
import { create } from 'superstruct';
import { createDestinations } from '../../../src/destinations';
import { DestinationsConfig } from '../../../src/destinations/schema';

describe('createDestinations', () => {
  it('builds one destination per configured name, of the configured type', async () => {
    const config = create(
      {
        'ops-slack': { type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x' },
        'ops-mail': {
          type: 'email',
          transport: 'smtp://127.0.0.1:2525',
          from: 'skyrelay@example.com',
          to: ['ops@example.com'],
        },
        'ops-hook': {
          type: 'webhook',
          url: 'https://hooks.example.com/skyrelay',
          secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}`,
        },
      },
      DestinationsConfig,
    );
    const destinations = createDestinations(config, { timeoutMs: 1000 });
    expect([...destinations].map(([name, d]) => [name, d.name, d.type])).to.deep.equal([
      ['ops-slack', 'ops-slack', 'slack'],
      ['ops-mail', 'ops-mail', 'email'],
      ['ops-hook', 'ops-hook', 'webhook'],
    ]);
    // Creating connects nowhere, so closing is immediate.
    await Promise.all([...destinations.values()].map((d) => d.close()));
  });
});
