import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Dashboard sessions without server-side state: the cookie carries its expiry and a random id, signed with a key
 * derived from admin.token. Every process of a deployment (pm2 workers, several hosts) shares that token, so each
 * accepts the others' sessions; changing the token ends every session. The CSRF token is derived from the session
 * id, so it needs no storage either and differs per session.
 */

export const SESSION_COOKIE = 'skyrelay_session';

export interface Session {
  id: string;
  expiresMs: number;
}

const b64 = (buf: Buffer): string => buf.toString('base64url');

export class SessionKeys {
  private readonly key: Buffer;
  private readonly token: Buffer;

  constructor(adminToken: string) {
    // Domain-separated: the key signs cookies and nothing else, and is not the token itself.
    this.key = createHmac('sha256', adminToken).update('skyrelay dashboard session v1').digest();
    this.token = createHash('sha256').update(adminToken, 'utf8').digest();
  }

  /** Whether `presented` is the admin token, in constant time (both sides hashed first, as the bearer check does). */
  checkToken(presented: string): boolean {
    return timingSafeEqual(createHash('sha256').update(presented, 'utf8').digest(), this.token);
  }

  issue(now: number, lifetimeMs: number): { session: Session; cookie: string } {
    const session = { id: b64(randomBytes(18)), expiresMs: now + lifetimeMs };
    const payload = `${session.expiresMs}.${session.id}`;
    return { session, cookie: `${payload}.${this.sign(payload)}` };
  }

  /** The session a cookie value stands for, if it is one we signed and it has not expired. */
  verify(cookie: string | undefined, now: number): Session | undefined {
    const m = /^(\d{1,15})\.([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{43})$/.exec(cookie ?? '');
    if (!m) return undefined;
    const [, expires, id, signature] = m as unknown as [string, string, string, string];
    if (!equal(signature, this.sign(`${expires}.${id}`))) return undefined;
    const expiresMs = Number(expires);
    return expiresMs > now ? { id, expiresMs } : undefined;
  }

  csrfToken(session: Session): string {
    return this.sign(`csrf.${session.id}`);
  }

  checkCsrf(session: Session, presented: string | undefined): boolean {
    return presented !== undefined && equal(presented, this.csrfToken(session));
  }

  private sign(text: string): string {
    return b64(createHmac('sha256', this.key).update(text).digest());
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
