import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import {
  StatusQueryClient,
  StatusQueryRejectedError,
  StatusQueryRequestError,
  StatusQueryTimeoutError,
  StatusQueryTransportError,
  StatusQueryUnreadableError,
  createStatusQueryClient,
  type StatusQueryOptions,
} from '../../../src/skypay/status-query';
import { encryptCallback, SAMPLE_AUTH, SAMPLE_ENCRYPT_KEY, SAMPLE_PARTNER } from '../../support/skypay';
import { SkyPaySimulator } from '../../support/skypay-simulator';
import { mergeDeep, readDefaultConfig } from '../../support/config';
import { validateConfig } from '../../../src/config/load';

const PARTNER = { userName: SAMPLE_PARTNER, authentication: SAMPLE_AUTH, encryptKey: SAMPLE_ENCRYPT_KEY };
const CN = (n: number): string => `SKY99${String(n).padStart(10, '0')}`;

/** The 7.1 status query client against the SkyPay simulator, over real HTTP. */
describe('skypay status query client against the SkyPay simulator', () => {
  let sim: SkyPaySimulator;

  beforeEach(async () => {
    sim = await SkyPaySimulator.start(PARTNER);
  });
  afterEach(async () => {
    await sim.stop();
  });

  const client = (overrides: Partial<StatusQueryOptions> = {}): StatusQueryClient =>
    new StatusQueryClient({ url: sim.url, ...PARTNER, timeoutMs: 2000, ...overrides });

  it('sends an encrypted payoutQueryStatus the simulator opens and accepts, and reads its encrypted answer', async () => {
    sim.set(
      {
        controlNumber: CN(1),
        transactionDate: '2026-11-27 08:00:00',
        status: '1',
        statusDesc: 'Completed',
        payTime: '2026-11-27 09:00:00',
        cancelTime: '',
        withdrawChannel: 'Bank',
        referenceNo: 'G123',
      },
      {
        controlNumber: CN(2),
        transactionDate: '2026-11-27 08:00:00',
        status: 3,
        statusDesc: 'Cancelled',
        payTime: '',
        cancelTime: '',
      },
    );
    const result = await client().query([CN(1), CN(2), CN(3)]);
    expect(sim.requests).to.have.length(1);
    const [request] = sim.requests;
    expect(request?.contentType).to.match(/^text\/plain/);
    expect(request?.body).to.deep.equal({
      userName: SAMPLE_PARTNER,
      action: 'payoutQueryStatus',
      authentication: SAMPLE_AUTH,
      controlNumbers: [{ controlNumber: CN(1) }, { controlNumber: CN(2) }, { controlNumber: CN(3) }],
    });
    expect(request?.answered).to.equal('1000');
    expect(result.payouts).to.have.length(2);
    expect(result.payouts[0]).to.include({
      controlNumber: CN(1),
      status: 1,
      payTime: '2026-11-27 09:00:00',
      referenceNo: 'G123',
    });
    expect(result.payouts[1]).to.include({ controlNumber: CN(2), status: 3, cancelTime: '' });
    expect(result.missing).to.deep.equal([CN(3)]);
  });

  it('asks 50 in one call; the client refuses 51 before sending, and the simulator refuses 51 sent anyway', async () => {
    const fifty = Array.from({ length: 50 }, (_, i) => CN(i));
    for (const c of fifty) sim.set({ controlNumber: c, status: '2' });
    const result = await client().query(fifty);
    expect(result.payouts).to.have.length(50);
    let refused: unknown;
    try {
      await client().query([...fifty, CN(50)]);
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(StatusQueryRequestError);
    expect(sim.requests, 'the 51 were never sent').to.have.length(1);

    // The simulator enforces the limit itself: a raw request of 51 gets -1000.
    const body = {
      userName: SAMPLE_PARTNER,
      action: 'payoutQueryStatus',
      authentication: SAMPLE_AUTH,
      controlNumbers: [...fifty, CN(50)].map((controlNumber) => ({ controlNumber })),
    };
    const res = await fetch(sim.url, { method: 'POST', body: encryptCallback(body, SAMPLE_ENCRYPT_KEY) });
    expect(res.status).to.equal(200);
    expect(sim.requests.at(-1)?.answered).to.equal('-1000');
  });

  it('gets -1000 from the simulator for a wrong authentication key, as a typed rejection with the code', async () => {
    let err: unknown;
    try {
      await client({ authentication: 'not-the-key' }).query([CN(1)]);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(StatusQueryRejectedError);
    expect(err).to.include({ code: '-1000' });
    expect(String((err as Error).message)).not.to.include('not-the-key');
    expect(sim.requests[0]?.body?.['authentication']).to.equal('not-the-key');
  });

  it('is checked by the simulator for userName and action as well, and for a body its key does not open', async () => {
    const wrongUser = await client({ userName: 'Other@skypay' })
      .query([CN(1)])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(wrongUser).to.be.instanceOf(StatusQueryRejectedError);
    expect(sim.requests[0]?.answered).to.equal('-1000');
    const body = {
      userName: SAMPLE_PARTNER,
      action: 'payoutQueuePayout',
      authentication: SAMPLE_AUTH,
      controlNumbers: [{ controlNumber: CN(1) }],
    };
    await fetch(sim.url, { method: 'POST', body: encryptCallback(body, SAMPLE_ENCRYPT_KEY) });
    await fetch(sim.url, {
      method: 'POST',
      body: encryptCallback({ ...body, action: 'payoutQueryStatus' }, 'another key'),
    });
    expect(sim.requests.map((r) => r.answered)).to.deep.equal(['-1000', '-1000', '-1000']);
    expect(sim.requests[2]?.body, 'not opened').to.equal(undefined);
  });

  it('reports -9999 (service not available) as a StatusQueryRejectedError with code -9999', async () => {
    sim.mode = { kind: 'code', code: '-9999', description: 'Service not available' };
    const err = await client()
      .query([CN(1)])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(StatusQueryRejectedError);
    expect(err).to.include({ code: '-9999', description: 'Service not available' });
  });

  it('reports a garbage answer as unreadable', async () => {
    sim.mode = { kind: 'garbage' };
    const err = await client()
      .query([CN(1)])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(StatusQueryUnreadableError);
    expect(sim.requests[0]?.answered).to.equal('garbage');
  });

  it('gives up on a slow answer after timeoutMs with a StatusQueryTimeoutError', async () => {
    sim.mode = { kind: 'slow', delayMs: 3000 };
    const started = Date.now();
    const err = await client({ timeoutMs: 300 })
      .query([CN(1)])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const took = Date.now() - started;
    expect(err).to.be.instanceOf(StatusQueryTimeoutError);
    expect(took).to.be.at.least(290).and.below(2500);
  });

  it('times out on an answer that trickles in past the deadline, headers sent at once', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const drip = setInterval(() => res.write('A'), 50);
      res.on('close', () => clearInterval(drip));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await client({ url: `http://127.0.0.1:${port}/services/x`, timeoutMs: 300 })
        .query([CN(1)])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(StatusQueryTimeoutError);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('stops reading an answer past 1 MiB and reports it unreadable, without waiting for its end', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const flood = setInterval(() => res.write('B'.repeat(64 * 1024)), 5);
      res.on('close', () => clearInterval(flood));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await client({ url: `http://127.0.0.1:${port}/services/x`, timeoutMs: 20_000 })
        .query([CN(1)])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(StatusQueryUnreadableError);
      expect((err as Error).message).to.equal('the answer is larger than 1048576 bytes');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('reports an HTTP error status and a refused connection as transport errors', async () => {
    sim.mode = { kind: 'http', status: 503 };
    const http503 = await client()
      .query([CN(1)])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(http503).to.be.instanceOf(StatusQueryTransportError);
    expect(http503).to.include({ status: 503 });

    const url = sim.url;
    await sim.stop();
    const refused = await new StatusQueryClient({ url, ...PARTNER, timeoutMs: 2000 }).query([CN(1)]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).to.be.instanceOf(StatusQueryTransportError);
    expect(refused).to.include({ code: 'ECONNREFUSED' });
    sim = await SkyPaySimulator.start(PARTNER);
  });

  it("is built from skypay.statusQuery with the partner's first authentication and encrypt keys, or not at all", async () => {
    const config = validateConfig(
      mergeDeep(readDefaultConfig(), {
        skypay: {
          partners: [
            {
              userName: SAMPLE_PARTNER,
              authentication: [SAMPLE_AUTH, 'OLDER-KEY-1'],
              encryptKeys: [SAMPLE_ENCRYPT_KEY, 'older'],
            },
          ],
          statusQuery: { url: sim.url, partner: SAMPLE_PARTNER, timeoutMs: 2000 },
        },
      }),
    );
    sim.set({ controlNumber: CN(7), status: '2' });
    const result = await createStatusQueryClient(config.skypay)?.query([CN(7)]);
    expect(result?.payouts.map((p) => p.status)).to.deep.equal([2]);
    expect(sim.requests[0]?.body).to.include({ userName: SAMPLE_PARTNER, authentication: SAMPLE_AUTH });
    expect(createStatusQueryClient(validateConfig(readDefaultConfig()).skypay), 'off without a url').to.equal(
      undefined,
    );
  });
});
