import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isRecord } from '../is-record';

let cachedUserAgent: string | undefined;

/**
 * `skyrelay/<version>` from the nearest skyrelay package.json: the compiled
 * file sits at different depths in dist/ and the test build, so walk up.
 */
export function getUserAgent(): string {
  if (cachedUserAgent !== undefined) return cachedUserAgent;
  let version = 'unknown';
  for (let dir = __dirname, i = 0; i < 6; dir = dirname(dir), i++) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (isRecord(pkg) && pkg['name'] === 'skyrelay' && typeof pkg['version'] === 'string') {
        version = pkg['version'];
        break;
      }
    } catch {
      // No package.json at this level: keep walking up.
    }
  }
  cachedUserAgent = `skyrelay/${version}`;
  return cachedUserAgent;
}
