/**
 * The exact source text of a JSON object's top-level members. JSON.parse
 * turns 12345678901234567890.123 into a double that prints differently; the
 * text SkyPay sent is what skyrelay must keep and forward. Runs only on text
 * JSON.parse already accepted, so it checks little; anything unexpected
 * returns undefined and the caller falls back to the parsed values.
 */
export function scanMembers(text: string): Map<string, string> | undefined {
  const members = new Map<string, string>();
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return undefined;
  i = skipSpace(text, i + 1);
  if (text[i] === '}') return members;
  for (;;) {
    if (text[i] !== '"') return undefined;
    const keyEnd = skipString(text, i);
    if (keyEnd < 0) return undefined;
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    if (text[i] !== ':') return undefined;
    const start = skipSpace(text, i + 1);
    const end = skipValue(text, start);
    if (end <= start) return undefined;
    // A repeated key: JSON.parse keeps the last, and so does this.
    members.set(key, text.slice(start, end));
    i = skipSpace(text, end);
    if (text[i] === '}') return members;
    if (text[i] !== ',') return undefined;
    i = skipSpace(text, i + 1);
  }
}

/** The same value without insignificant whitespace: two copies that differ only in layout compare equal. */
export function minifyJson(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      const end = skipString(text, i);
      if (end < 0) return out + text.slice(i);
      out += text.slice(i, end);
      i = end;
    } else {
      if (!isSpace(c)) out += c;
      i += 1;
    }
  }
  return out;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

function skipSpace(text: string, i: number): number {
  while (isSpace(text[i])) i += 1;
  return i;
}

/** From an opening quote to just past its closing one; -1 if it never closes. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j += 1;
    else if (c === '"') return j + 1;
  }
  return -1;
}

/** Past one value: a string, a balanced object or array (iteratively, whatever the depth), or a scalar. */
function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') {
        j = skipString(text, j) - 1;
        if (j < 0) return -1;
      } else if (d === '{' || d === '[') depth += 1;
      else if (d === '}' || d === ']') {
        depth -= 1;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length && !isSpace(text[j]) && text[j] !== ',' && text[j] !== '}' && text[j] !== ']') j += 1;
  return j;
}
