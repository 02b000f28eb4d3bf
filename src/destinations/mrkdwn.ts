import { stripBidiControls } from '../bidi';

/**
 * Text from a callback (or from a receiver's answer) must reach Slack as
 * text, not as formatting or links. Slack decodes only &amp; &lt; &gt;, and
 * has no escape for its formatting characters (a backslash is shown as is),
 * so those become lookalikes that can never pair up: `*bold*` arrives as
 * `∗bold∗`. Underscores between two letters or digits never format
 * (`ACCOUNT_CLOSED`, `rej_01J…`) and are kept, so ids still copy and paste.
 */
const REPLACEMENTS: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '*': '\u2217',
  '~': '\u223C',
  '`': '\u02CB',
  _: '\u02CD',
};
const SPECIAL = /[&<>*~`]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu;

/** Also drops bidirectional controls: Slack has no element to isolate a value in, and they would reorder the line. */
export function escapeMrkdwn(text: string): string {
  return stripBidiControls(text).replace(SPECIAL, (c) => REPLACEMENTS[c] ?? c);
}

/**
 * Escapes, then caps at maxChars (with a trailing "…"), never cutting an
 * entity such as &amp; or a surrogate pair in half.
 */
export function escapeMrkdwnWithin(text: string, maxChars: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= maxChars) return escaped;
  let end = 0;
  const limit = maxChars - 1;
  while (end < escaped.length) {
    const entity = escaped[end] === '&' ? /^&(?:amp|lt|gt);/.exec(escaped.slice(end, end + 5))?.[0] : undefined;
    const size = entity?.length ?? ((escaped.codePointAt(end) as number) > 0xffff ? 2 : 1);
    if (end + size > limit) break;
    end += size;
  }
  const out = escaped.slice(0, end);
  return `${out}…`;
}
