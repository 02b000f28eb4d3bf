import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { RelayEvent } from '../../../src/event';
import { BodyBudget } from '../../../src/ingest/body';
import { receiveCallback, type CallbackRequest, type ReceiveDeps } from '../../../src/ingest/receive';
import { preparePartners } from '../../../src/skypay/partners';
import { parseOffsetMinutes } from '../../../src/skypay/time';
import { createCallbackStruct } from '../../../src/skypay/validate';
import type { Store } from '../../../src/store';
import { openSqliteStore } from '../../support/sqlite';
import { makeTempDir } from '../../support/daemon';
import {
  SAMPLE_AUTH,
  SAMPLE_ENCRYPT_KEY,
  SAMPLE_PARTNER,
  buildCallback,
  decryptReply,
  encryptCallback,
} from '../../support/skypay';

/** receiveCallback() without Koa or HTTP: headers and a body in, a result out, on a real SQLite store. */
describe('ingest/receive receiveCallback', () => {
  const offsetMinutes = parseOffsetMinutes('+08:00');
  const ENCRYPTING = 'Enc@skypay';
  let dir: string;
  let store: Store;
  let planned: RelayEvent[];

  function deps(overrides: Partial<ReceiveDeps> = {}): ReceiveDeps {
    return {
      partners: preparePartners([
        { userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [] },
        { userName: ENCRYPTING, authentication: [SAMPLE_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] },
      ]),
      callbackStruct: createCallbackStruct(offsetMinutes),
      offsetMinutes,
      bodyLimits: { limitBytes: 1024 * 1024, timeoutMs: 5_000, budget: new BodyBudget(64 * 1024 * 1024) },
      store,
      plan: (event) => {
        planned.push(event);
        return [];
      },
      ...overrides,
    };
  }

  /** A request whose body is already here; `reads` counts whether a stage read it. */
  function request(body: string, headers: Partial<CallbackRequest> = {}): CallbackRequest & { reads: number } {
    const req = {
      mediaType: 'json' as const,
      contentType: 'application/json',
      contentLength: Buffer.byteLength(body),
      contentEncoding: '',
      reads: 0,
      read: async () => {
        req.reads += 1;
        const parsed: unknown = req.mediaType === 'json' ? JSON.parse(body) : body;
        return { parsed, raw: body };
      },
      ...headers,
    };
    return req;
  }

  beforeEach(() => {
    dir = makeTempDir('skyrelay-receive');
    store = openSqliteStore(path.join(dir, 'skyrelay.db'), { synchronous: 'NORMAL' });
    planned = [];
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores a valid callback once and answers 1000; the same again is a duplicate', async () => {
    const body = JSON.stringify(buildCallback({ payType: '4', failDescription: 'bank offline' }));
    const first = await receiveCallback(request(body), deps());
    expect(first.outcome).to.equal('accepted');
    expect(first.answer.status).to.equal(200);
    expect(JSON.parse(first.answer.body)).to.include({ responseCode: '1000', responseDescription: 'Success' });
    expect(first.facts).to.include({ partner: SAMPLE_PARTNER, payType: 4, duplicate: false });
    expect(planned).to.have.length(1);

    const again = await receiveCallback(request(body), deps());
    expect(again.outcome).to.equal('duplicate');
    expect(again.facts.eventId).to.equal(first.facts.eventId);
    expect(JSON.parse(again.answer.body)).to.include({ responseCode: '1000' });
  });

  it('opens an encrypted body and answers under the key that opened it, rejections included', async () => {
    const cipher = encryptCallback(buildCallback({ userName: ENCRYPTING }), SAMPLE_ENCRYPT_KEY);
    const ok = await receiveCallback(request(cipher, { mediaType: 'text', contentType: 'text/plain' }), deps());
    expect(ok.outcome).to.equal('accepted');
    expect(ok.answer.type).to.equal('text/plain');
    expect(decryptReply(ok.answer.body, SAMPLE_ENCRYPT_KEY)).to.include({ responseCode: '1000' });

    const bad = encryptCallback(buildCallback({ userName: ENCRYPTING, controlNumber: 'x' }), SAMPLE_ENCRYPT_KEY);
    const rejected = await receiveCallback(request(bad, { mediaType: 'text', contentType: 'text/plain' }), deps());
    expect(rejected).to.include({ outcome: 'rejected', status: 400, reason: 'invalid' });
    expect(decryptReply(rejected.answer.body, SAMPLE_ENCRYPT_KEY)).to.include({ responseCode: '400' });
  });

  it('rejects an unsupported content type and an over-long declared body without reading it', async () => {
    const xml = request('<xml/>', { mediaType: undefined, contentType: 'application/xml' });
    expect(await receiveCallback(xml, deps())).to.include({ status: 415, reason: 'unsupported_media_type' });
    const big = request(JSON.stringify(buildCallback()), { contentLength: 2 * 1024 * 1024 });
    expect(await receiveCallback(big, deps())).to.include({ status: 413, reason: 'too_large' });
    expect([xml.reads, big.reads]).to.deep.equal([0, 0]);
  });

  it('authenticates before it validates: a bad field from a stranger is a 401, not a 400', async () => {
    const body = JSON.stringify(buildCallback({ authentication: 'wrong', controlNumber: 'x' }));
    const result = await receiveCallback(request(body), deps());
    expect(result).to.include({ outcome: 'rejected', status: 401, reason: 'unauthenticated' });
    expect(planned, 'nothing is planned for a rejected callback').to.have.length(0);
  });

  it('keeps the body read for a rejection, and the partner once authenticated', async () => {
    const body = JSON.stringify(buildCallback({ payType: '9' }));
    const result = await receiveCallback(request(body), deps());
    if (result.outcome !== 'rejected') throw new Error('expected a rejection');
    expect(result.rawBody).to.equal(body);
    expect(result.facts.partner).to.equal(SAMPLE_PARTNER);
    expect(result.description).to.match(/^payType: /);
  });

  it('judges dealTime on the clock it is given', async () => {
    const body = JSON.stringify(buildCallback({ dealTime: '2026-01-01 08:00:00' }));
    const window = { maxAgeDays: 30, maxFutureMinutes: 10 };
    const inWindow = await receiveCallback(
      request(body),
      deps({ dealTimeWindow: window, now: () => new Date('2026-01-02T00:00:00Z') }),
    );
    expect(inWindow.outcome).to.equal('accepted');
    const late = await receiveCallback(
      request(body),
      deps({ dealTimeWindow: window, now: () => new Date('2026-03-01T00:00:00Z') }),
    );
    expect(late).to.include({ status: 400, reason: 'invalid' });
  });

  it("maps the store's failure to 503 and never 1000", async () => {
    await store.close();
    const result = await receiveCallback(request(JSON.stringify(buildCallback())), deps());
    expect(result).to.include({ outcome: 'rejected', status: 503, reason: 'storage_unavailable' });
    expect(JSON.parse(result.answer.body)).to.include({ responseCode: '503' });
    store = openSqliteStore(path.join(dir, 'skyrelay.db'), { synchronous: 'NORMAL' });
  });

  it('answers 500 for a failure of skyrelay itself, without its message', async () => {
    const broken = deps({
      plan: () => {
        throw new Error('planner bug at /srv/skyrelay');
      },
    });
    const result = await receiveCallback(request(JSON.stringify(buildCallback())), broken);
    expect(result).to.include({ outcome: 'rejected', status: 500, reason: 'internal' });
    expect(result.answer.body).not.to.contain('planner bug');
  });
});
