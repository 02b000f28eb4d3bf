/**
 * An independent reading of what skyrelay must accept, written from
 * docs/skypay.md's rules and SkyPay's field table rather than from src/, so the
 * fuzz tests compare the daemon against the specification, not itself.
 */

export interface OraclePartner {
  userName: string;
  authentication: string[];
  /** Set when the partner must encrypt; plain JSON in its name is refused. */
  encryptKey?: string;
}

export type Verdict = { valid: true; identity: string } | { valid: false; why: string };

const CONTROL_NUMBER = /^[A-Za-z0-9]{13,15}$/;
const DEAL_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
export const MAX_DEPTH = 32;

/** Judges the text a body decodes to; `encryptedWith` is the encrypt key that opened it, if any. */
export function judgeCallbackText(text: string, partners: readonly OraclePartner[], encryptedWith?: string): Verdict {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { valid: false, why: 'not JSON' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { valid: false, why: 'not an object' };
  if (hasProtoKey(body)) return { valid: false, why: '__proto__ key' };
  if (depthOf(body) > MAX_DEPTH) return { valid: false, why: 'too deep' };
  return judgeCallbackObject(body as Record<string, unknown>, partners, encryptedWith);
}

export function judgeCallbackObject(
  b: Record<string, unknown>,
  partners: readonly OraclePartner[],
  encryptedWith?: string,
): Verdict {
  const partner = partners.find((p) => p.userName === b['userName']);
  if (!partner) return { valid: false, why: 'unknown partner' };
  if (partner.encryptKey !== encryptedWith) return { valid: false, why: 'wrong transport for this partner' };
  if (typeof b['authentication'] !== 'string' || !partner.authentication.includes(b['authentication'])) {
    return { valid: false, why: 'wrong key' };
  }
  if (b['action'] !== 'payoutQueuePayout') return { valid: false, why: 'action' };
  const cn = b['controlNumber'];
  if (typeof cn !== 'string' || !CONTROL_NUMBER.test(cn)) return { valid: false, why: 'controlNumber' };
  const payType = readPayType(b['payType']);
  if (payType === undefined) return { valid: false, why: 'payType' };
  const dealTime = b['dealTime'];
  if (typeof dealTime !== 'string' || !isCalendarTime(dealTime)) return { valid: false, why: 'dealTime' };
  for (const optional of ['failDescription', 'referenceNumber']) {
    const v = b[optional];
    if (v !== undefined && v !== null && typeof v !== 'string') return { valid: false, why: optional };
  }
  return { valid: true, identity: identityOf(cn, payType, dealTime) };
}

/** A callback's identity as docs/skypay.md defines it: (controlNumber, payType, dealTime). */
export function identityOf(controlNumber: string, payType: number, dealTime: string): string {
  return `${controlNumber}|${payType}|${dealTime}`;
}

function readPayType(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 6) return v;
  if (typeof v === 'string' && /^[1-6]$/.test(v)) return Number(v);
  return undefined;
}

function isCalendarTime(text: string): boolean {
  const m = DEAL_TIME.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= (days[mo - 1] ?? 0) && h <= 23 && mi <= 59 && s <= 59;
}

/** Nesting depth, the body itself being 1; iterative so any depth can be measured. */
export function depthOf(root: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value !== 'object' || value === null) continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** JSON.parse makes "__proto__" an own key; the body parser refuses such bodies (prototype poisoning). */
function hasProtoKey(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
    stack.push(...Object.values(value));
  }
  return false;
}
