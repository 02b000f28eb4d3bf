import { createHash } from 'node:crypto';
import { deriveAesKey } from './crypto';

/** A partner as configured, with its encrypt keys derived once at start. */
export interface Partner {
  userName: string;
  authentication: string[];
  /** SHA-256 of each authentication key, computed once: what the constant-time check compares. */
  authenticationDigests: Buffer[];
  /** AES keys, in configured order (newest first is the convention). */
  aesKeys: Buffer[];
}

export interface PartnerConfig {
  userName: string;
  authentication: string[];
  encryptKeys: string[];
}

export function preparePartners(configs: PartnerConfig[]): Map<string, Partner> {
  const partners = new Map<string, Partner>();
  for (const c of configs) {
    partners.set(c.userName, {
      userName: c.userName,
      authentication: [...c.authentication],
      authenticationDigests: c.authentication.map(digestKey),
      aesKeys: c.encryptKeys.map(deriveAesKey),
    });
  }
  return partners;
}

/** Every secret in the partner config: what masking must never let through. */
export function listPartnerSecrets(configs: PartnerConfig[]): string[] {
  return configs.flatMap((c) => [...c.authentication, ...c.encryptKeys]);
}

/** Fixed-length digests let keys of any length be compared in constant time. */
export const digestKey = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
