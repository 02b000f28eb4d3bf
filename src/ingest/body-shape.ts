import { MalformedBodyError, PROTO_KEY_REJECTION } from './rejections';

/**
 * SkyPay's fields are flat; extra fields are kept as sent, so a body could
 * otherwise smuggle in nesting deep enough to overflow JSON.stringify when
 * the event is stored or delivered. That is the sender's fault (400), not a
 * storage failure (503), so it is rejected before anything else looks at it.
 */
export const MAX_BODY_DEPTH = 32;

/** Walks the body without recursion (the point is to survive any depth). */
export function requireSafeBody(body: Record<string, unknown>, maxDepth = MAX_BODY_DEPTH): void {
  const stack: [unknown, number][] = [[body, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value !== 'object' || value === null) continue;
    if (depth > maxDepth) throw new MalformedBodyError(`body nests deeper than ${maxDepth} levels`);
    if (Object.prototype.hasOwnProperty.call(value, '__proto__')) throw new MalformedBodyError(PROTO_KEY_REJECTION);
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
}
