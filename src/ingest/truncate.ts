/** What is left of a text cut to a byte budget, and how long it was. */
export interface Cut {
  text: string;
  /** The original size in UTF-8 bytes. */
  bytes: number;
}

/** The first maxBytes of text in UTF-8, never splitting a character. */
export function cutUtf8(text: string, maxBytes: number): Cut {
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return { text, bytes };
  const buf = Buffer.from(text, 'utf8');
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that did not fit.
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end -= 1;
  return { text: buf.subarray(0, end).toString('utf8'), bytes };
}
