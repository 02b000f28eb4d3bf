import { isIPv4, isIPv6 } from 'node:net';

/**
 * The block an address belongs to, as one sender holds them: an IPv4 /24 or an IPv6 /64. Anyone with one
 * address can usually choose among the rest of its block (a cloud VM's secondary IPs, a /64 handed to one
 * host), so limits per sender count per block. Anything else (no address, a description of a forwarded value
 * that was not an address) is its own block.
 */
export function addressBlock(address: string | undefined): string {
  if (address === undefined) return '';
  const v4 = isIPv4(address) ? address : mappedIPv4(address);
  if (v4 !== undefined) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(address)) return address;
  const groups = expandIPv6(address.split('%')[0] ?? address);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** `::ffff:192.0.2.1` (how Node reports an IPv4 client on a dual-stack socket) as `192.0.2.1`. */
function mappedIPv4(address: string): string | undefined {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m && isIPv4(m[1] as string) ? m[1] : undefined;
}

/** The eight groups of an IPv6 address, each without leading zeros, lower case (`2001:db8::1` → 2001,db8,0,…,1). */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) is two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((g) => Number.parseInt(g, 16).toString(16));
}
