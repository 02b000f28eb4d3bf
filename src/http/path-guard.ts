import type Koa from 'koa';

/**
 * The path as the most lenient reader could take it: percent-escapes decoded
 * until none is left (`%2561` is `a` to whatever decodes twice), `\` and runs
 * of `/` read as one `/`, dot segments resolved, no trailing slash, lower case.
 * Only for deciding what a guard covers: covering too much costs a 401 where a
 * 404 would do, covering too little is a hole (routers have matched `/ADMIN/…`
 * while a prefix check looked for `/admin`).
 */
export function canonicalPath(path: string): string {
  let decoded = path;
  for (;;) {
    // Byte by byte, never throwing on a malformed escape: only ASCII prefixes are compared afterwards.
    const next = decoded.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === decoded) break;
    decoded = next;
  }
  const segments: string[] = [];
  for (const segment of decoded.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment.toLowerCase());
  }
  return `/${segments.join('/')}`;
}

/** Whether `path`, however it is spelt, is `prefix` or lies below it. */
export function isWithin(path: string, prefix: string): boolean {
  const base = canonicalPath(prefix);
  const p = canonicalPath(path);
  return base === '/' || p === base || p.startsWith(`${base}/`);
}

/**
 * Runs `guard` for every request whose path is `prefix` or below it, in any
 * spelling, before any router sees the request: an unknown path under the
 * prefix is guarded too, so the guard covers new routes by construction.
 */
export function guardPrefix(prefix: string, guard: Koa.Middleware): Koa.Middleware {
  return (ctx, next) => (isWithin(ctx.path, prefix) ? guard(ctx, next) : next());
}

/**
 * Whether a path carries a separator or NUL that some reader would take as structure and another as text: a
 * percent-escaped `/`, `\` or NUL at any depth of encoding (`%2F`, `%252f`), or a raw `\`. A router decodes `%2F`
 * inside a parameter (`/ui/payouts/X%2F..%2Fstatic`) while a guard resolving the whole path sees another route.
 */
export function hasAmbiguousSeparator(path: string): boolean {
  let text = path;
  for (;;) {
    if (/%(?:2f|5c|00)|\\|\0/i.test(text)) return true;
    const next = text.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === text) return false;
    text = next;
  }
}

/**
 * Answers 400 to a request under any of `prefixes` (in any spelling) whose path has an ambiguous separator: no
 * route under them takes a `/`, `\` or NUL inside a segment, so refusing costs nothing and leaves the guards and
 * routers one reading of every path they see. Runs before the guards.
 */
export function refuseAmbiguousSeparators(prefixes: readonly string[]): Koa.Middleware {
  return (ctx, next) => {
    if (!hasAmbiguousSeparator(ctx.path)) return next();
    // A NUL ends the path for a reader in C: `/metrics%00x` is `/metrics` to it.
    const cut = ctx.path.replace(/%(?:25)*00/gi, '/');
    if (!prefixes.some((prefix) => isWithin(ctx.path, prefix) || isWithin(cut, prefix))) return next();
    ctx.status = 400;
    ctx.type = 'text/plain';
    ctx.body = 'refused: an encoded "/", "\\" or NUL (%2F, %5C, %00) in the path';
    return undefined;
  };
}
