import { RE2JS } from 're2js';

/**
 * The `regex` operator of rules and silences, in RE2 syntax, matched by RE2JS (a port of RE2): time linear in the
 * text whatever the pattern, so a pattern such as `^(a+)+$` cannot hold the event loop the way a backtracking
 * engine (JavaScript's RegExp) does on `aaaa…!`. RE2 has no lookaround and no backreferences; it adds inline flags
 * such as `(?i)`.
 *
 * Linear is still pattern size times text length, so both are bounded: the pattern's compiled program (a repeat
 * such as `.{400}` is about 400 instructions; everyday patterns are under 50) and the text, of which only the first
 * MAX_PATTERN_TEXT characters are tested. Measured here: at these bounds one test stays within a few ms.
 */
export const MAX_PATTERN_TEXT = 4096;
export const MAX_PATTERN_PROGRAM = 500;
/** A pattern longer than this is refused before it is parsed at all. */
export const MAX_PATTERN_CHARS = 1000;

/** Why `source` cannot be a pattern, in words for its author; undefined when it can. */
export function findPatternProblem(source: string): string | undefined {
  if (source.length > MAX_PATTERN_CHARS) return `at most ${MAX_PATTERN_CHARS} characters`;
  let size: number;
  try {
    size = RE2JS.compile(source).programSize();
  } catch (err) {
    // RE2JS says "error parsing regexp: invalid or unsupported Perl syntax: `(?=`": keep what follows the colon.
    const message = (err as Error).message.replace(/^error parsing regexp: /, '');
    return `${message} (RE2 syntax: no lookaround or backreferences, so matching stays linear in time)`;
  }
  if (size > MAX_PATTERN_PROGRAM) {
    return `too large once compiled (${size} RE2 instructions, at most ${MAX_PATTERN_PROGRAM}; shorten repeats such as {1000})`;
  }
  return undefined;
}

/** Compiles a pattern findPatternProblem accepted into a test of (the first MAX_PATTERN_TEXT characters of) a text. */
export function compilePattern(source: string): (text: string) => boolean {
  const pattern = RE2JS.compile(source);
  return (text) => pattern.test(text.length > MAX_PATTERN_TEXT ? text.slice(0, MAX_PATTERN_TEXT) : text);
}
