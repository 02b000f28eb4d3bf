import { timingSafeEqual } from 'node:crypto';
import { EncryptionRequiredError, UnauthenticatedError } from './rejections';
import { digestKey, type Partner } from '../skypay/partners';

/**
 * Checks userName and authentication before anything else in the body is
 * trusted. Keys are compared in constant time via fixed-length digests, so
 * neither a key's content nor its length leaks through timing. The error
 * says which check failed, for the log and the kept row; the client is only
 * told that authentication failed (UnauthenticatedError.answerDescription).
 */
export function authenticateCallback(
  body: Record<string, unknown>,
  partners: Map<string, Partner>,
  openedWith: Buffer | undefined,
): Partner {
  const userName = body['userName'];
  const key = body['authentication'];
  const partner = typeof userName === 'string' ? partners.get(userName) : undefined;
  // The key is compared whether or not the partner exists, so the time taken does not tell a known name either.
  const keyMatches = typeof key === 'string' && matchesAny(key, partner?.authenticationDigests ?? NO_PARTNER_DIGESTS);
  if (!partner) throw withPartner(new UnauthenticatedError('unknown partner (userName)'), userName);
  if (openedWith === undefined && partner.aesKeys.length > 0) {
    throw withPartner(new EncryptionRequiredError('this partner must send encrypted callbacks'), partner.userName);
  }
  if (openedWith !== undefined && !partner.aesKeys.some((k) => k.equals(openedWith))) {
    // One partner's encrypt key must not vouch for another partner's name.
    throw withPartner(new UnauthenticatedError("body was not encrypted with this partner's key"), partner.userName);
  }
  if (!keyMatches) {
    throw withPartner(new UnauthenticatedError('wrong authentication key'), partner.userName);
  }
  return partner;
}

/** Stands in for an unknown partner's keys: no key is known to hash to 32 zero bytes. */
const NO_PARTNER_DIGESTS = [Buffer.alloc(32)];

function matchesAny(candidate: string, keyDigests: Buffer[]): boolean {
  const probe = digestKey(candidate);
  let found = false;
  // No early exit: the time taken does not say which key (if any) matched.
  for (const key of keyDigests) found = timingSafeEqual(probe, key) || found;
  return found;
}

function withPartner<E extends UnauthenticatedError>(err: E, userName: unknown): E {
  if (typeof userName === 'string') err.partner = userName.slice(0, 50);
  return err;
}
