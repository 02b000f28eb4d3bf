import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { deriveAesKey, encryptBody } from '../../src/skypay/crypto';
import { judgeCallbackText, type OraclePartner } from './callback-oracle';
import { SAMPLE_AUTH, SAMPLE_PARTNER, encryptCallback } from './skypay';

/**
 * fast-check generators for what SkyPay (or anyone on the internet) might
 * post to the callback URL, each paired with what the daemon must do with it
 * according to callback-oracle.ts.
 */
export const CRYPTO_PARTNER: OraclePartner = {
  userName: 'Crypto@skypay',
  authentication: ['CRYPTO-AUTH-KEY-0001'],
  encryptKey: 'FuzzEncryptKey2026',
};
export const FUZZ_PARTNERS: OraclePartner[] = [
  { userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH] },
  CRYPTO_PARTNER,
];
export const FUZZ_BODY_LIMIT_BYTES = 256 * 1024;

export interface FuzzRequest {
  label: string;
  contentType: string | undefined;
  contentEncoding?: string;
  body: Buffer;
  /** ack: must get 1000; refuse: must not; either: an unusual but harmless transport, whichever the daemon prefers. */
  expect: 'ack' | 'refuse' | 'either';
  /** The callback identity when the body is valid. */
  identity?: string;
}

let counter = 0;
const nextControlNumber = (): string => `FZ${String(++counter).padStart(11, '0')}`;

const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const hugeText = fc
  .tuple(fc.constantFrom('x', 'é', '😀', '\u0000', '"', '\\'), fc.integer({ min: 50_000, max: 200_000 }))
  .map(([unit, n]) => unit.repeat(n));
const junkValue = fc.oneof(
  { arbitrary: anyText, weight: 6 },
  {
    arbitrary: fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    ),
    weight: 4,
  },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 3 },
  { arbitrary: hugeText, weight: 1 },
);
const FIELDS = [
  'userName',
  'action',
  'authentication',
  'controlNumber',
  'payType',
  'dealTime',
  'failDescription',
  'referenceNumber',
];
const dealTime = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 19).replace('T', ' '));

const validCallback = fc
  .record({
    payType: fc.integer({ min: 1, max: 6 }),
    asNumber: fc.boolean(),
    dealTime,
    failDescription: fc.option(
      fc.oneof(
        anyText,
        hugeText.map((t) => t.slice(0, 20_000)),
      ),
      { nil: undefined },
    ),
    referenceNumber: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
    extra: fc.dictionary(
      fc.string({ maxLength: 12 }).filter((k) => !FIELDS.includes(k)),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 3 },
    ),
  })
  .map((r) => (partner: OraclePartner): Record<string, unknown> => ({
    ...r.extra,
    userName: partner.userName,
    action: 'payoutQueuePayout',
    authentication: partner.authentication[0],
    controlNumber: nextControlNumber(),
    payType: r.asNumber ? r.payType : String(r.payType),
    dealTime: r.dealTime,
    ...(r.failDescription === undefined ? {} : { failDescription: r.failDescription }),
    ...(r.referenceNumber === undefined ? {} : { referenceNumber: r.referenceNumber }),
  }));

type Mutation = (body: Record<string, unknown>) => void;
/** Deep nesting is spliced in as text: JSON.stringify itself overflows the stack a few thousand levels down. */
const DEEP_TOKEN = /"@@deep:(\d+):(array|object)@@"/g;
const spliceDeep = (json: string): string =>
  json.replace(DEEP_TOKEN, (_m, n: string, kind: string) => {
    const depth = Number(n);
    return kind === 'array'
      ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
      : `${'{"n":'.repeat(depth)}1${'}'.repeat(depth)}`;
  });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom(...FIELDS).map((f): Mutation => (b) => {
    delete b[f];
  }),
  fc.tuple(fc.constantFrom(...FIELDS), junkValue).map(([f, v]): Mutation => (b) => {
    b[f] = v;
  }),
  fc.tuple(fc.string({ maxLength: 12 }), junkValue).map(([k, v]): Mutation => (b) => {
    b[k] = v;
  }),
  fc.tuple(fc.integer({ min: 25, max: 20_000 }), fc.boolean()).map(([d, arr]): Mutation => (b) => {
    b['deep'] = `@@deep:${d}:${arr ? 'array' : 'object'}@@`;
  }),
  fc.constant<Mutation>((b) => {
    b['controlNumber'] = `${String(b['controlNumber'])}X`.slice(0, 15).replace(/^FZ/, 'F-');
  }),
);
const mutatedCallback = fc
  .tuple(validCallback, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([make, ms]) => (partner: OraclePartner) => {
    const b = make(partner);
    for (const m of ms) m(b);
    return b;
  });

const plainPartner = FUZZ_PARTNERS[0] as OraclePartner;
const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'];
const ODD_JSON_TYPES = [
  'Application/JSON',
  'application/json;charset=UTF-8',
  'text/plain',
  'text/plain; charset=utf-8',
];
const WRONG_TYPES = [
  undefined,
  '',
  'application/xml',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/vnd.api+json',
  'text/csv',
  'json',
  'application/',
  ';;;',
  'image/png',
];

function judgePlain(
  label: string,
  body: Record<string, unknown> | unknown,
  contentType: string,
  standard: boolean,
): FuzzRequest {
  const text = spliceDeep(JSON.stringify(body) ?? 'null');
  const verdict = judgeCallbackText(text, FUZZ_PARTNERS);
  const tooBig = Buffer.byteLength(text) > FUZZ_BODY_LIMIT_BYTES;
  const ok = verdict.valid && !tooBig;
  return {
    label,
    contentType,
    body: Buffer.from(text),
    expect: ok ? (standard ? 'ack' : 'either') : 'refuse',
    ...(verdict.valid ? { identity: verdict.identity } : {}),
  };
}

function judgeEncrypted(label: string, body: Record<string, unknown>): FuzzRequest {
  const text = spliceDeep(JSON.stringify(body));
  const cipher = encryptBody(text, deriveAesKey(CRYPTO_PARTNER.encryptKey as string));
  const verdict = judgeCallbackText(text, FUZZ_PARTNERS, CRYPTO_PARTNER.encryptKey);
  const ok = verdict.valid && Buffer.byteLength(cipher) <= FUZZ_BODY_LIMIT_BYTES;
  return {
    label,
    contentType: 'text/plain',
    body: Buffer.from(cipher),
    expect: ok ? 'ack' : 'refuse',
    ...(verdict.valid ? { identity: verdict.identity } : {}),
  };
}

/** What fast-check prints for a counterexample: the kind and the start of the body, not a megabyte of bytes. */
function withShortPrint(r: FuzzRequest): FuzzRequest {
  const head = r.body.subarray(0, 300).toString('utf8');
  const print =
    `${r.label} [${r.contentType ?? 'no content type'}${r.contentEncoding ? `, ${r.contentEncoding}` : ''}, ` +
    `${r.body.length} bytes, expect ${r.expect}]: ${JSON.stringify(head)}${r.body.length > 300 ? '…' : ''}`;
  return Object.assign(r, { [fc.toStringMethod]: () => print });
}

/** Every kind of request, weighted so that a few thousand runs cover each many times. */
export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
  .oneof(
    {
      weight: 15,
      arbitrary: fc
        .tuple(validCallback, fc.constantFrom(...JSON_TYPES))
        .map(([m, ct]) => judgePlain('valid', m(plainPartner), ct, true)),
    },
    {
      weight: 35,
      arbitrary: fc
        .tuple(mutatedCallback, fc.constantFrom(...JSON_TYPES))
        .map(([m, ct]) => judgePlain('mutated', m(plainPartner), ct, true)),
    },
    { weight: 5, arbitrary: validCallback.map((m) => judgeEncrypted('valid encrypted', m(CRYPTO_PARTNER))) },
    { weight: 5, arbitrary: mutatedCallback.map((m) => judgeEncrypted('mutated encrypted', m(CRYPTO_PARTNER))) },
    {
      weight: 5,
      arbitrary: validCallback.map((m) =>
        judgePlain('encrypting partner in plain JSON', m(CRYPTO_PARTNER), 'application/json', true),
      ),
    },
    { weight: 8, arbitrary: corruptCiphertext() },
    {
      weight: 5,
      arbitrary: fc
        .jsonValue({ maxDepth: 4 })
        .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
        .map((v) => judgePlain('not an object', v, 'application/json', true)),
    },
    {
      weight: 5,
      arbitrary: fc.object({ maxDepth: 6 }).map((o) => judgePlain('nested junk', o, 'application/json', true)),
    },
    { weight: 6, arbitrary: rawJunk() },
    {
      weight: 6,
      arbitrary: fc.tuple(validCallback, fc.constantFrom(...WRONG_TYPES)).map(([m, ct]): FuzzRequest => ({
        ...judgePlain('wrong content type', m(plainPartner), 'x', true),
        contentType: ct,
        expect: 'refuse',
      })),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(validCallback, fc.constantFrom(...ODD_JSON_TYPES))
        .map(([m, ct]) => judgePlain('odd content type', m(plainPartner), ct, false)),
    },
    { weight: 4, arbitrary: compressed() },
  )
  .map(withShortPrint);

function corruptCiphertext(): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(validCallback, fc.nat(), fc.constantFrom('truncate', 'drop padding', 'append', 'not base64'))
    .map(([m, cut, how]) => {
      const cipher = encryptCallback(m(CRYPTO_PARTNER), CRYPTO_PARTNER.encryptKey as string);
      const at = 1 + (cut % Math.max(1, cipher.length - 1));
      const broken =
        how === 'truncate'
          ? cipher.slice(0, at)
          : how === 'drop padding'
            ? cipher.replace(/=+$/, '').slice(0, -4)
            : how === 'append'
              ? `${cipher}QUJD`
              : `${cipher.slice(0, at)}*${cipher.slice(at)}`;
      return {
        label: `ciphertext: ${how}`,
        contentType: 'text/plain',
        body: Buffer.from(broken),
        expect: 'refuse' as const,
      };
    });
}

function rawJunk(): fc.Arbitrary<FuzzRequest> {
  const bytes = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }).map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  );
  return fc.tuple(bytes, fc.constantFrom(...JSON_TYPES, 'text/plain')).map(([body, contentType]): FuzzRequest => {
    const verdict = judgeCallbackText(body.toString('utf8'), FUZZ_PARTNERS);
    return { label: 'raw junk', contentType, body, expect: verdict.valid ? 'either' : 'refuse' };
  });
}

function compressed(): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(validCallback, fc.boolean(), fc.constantFrom('gzip', 'deflate', 'br'), fc.uint8Array({ maxLength: 64 }))
    .map(([m, intact, encoding, junk]) => {
      if (intact) return { ...judgePlain('gzip', m(plainPartner), 'application/json', false), contentEncoding: 'gzip' };
      return {
        label: `corrupt ${encoding}`,
        contentType: 'application/json',
        contentEncoding: encoding,
        body: Buffer.from(junk),
        expect: 'refuse' as const,
      };
    })
    .map((r) => (r.label === 'gzip' ? { ...r, body: gzipSync(r.body) } : r));
}
