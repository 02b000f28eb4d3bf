/**
 * Unicode's bidirectional formatting characters: the marks (LRM, RLM, ALM), the embeddings and overrides
 * (U+202A-202E) and the isolates (U+2066-2069). They are invisible, and an override in one value can reverse what
 * follows it on the line: `invoice‮fdp.exe` reads as `invoiceexe.pdf`. Text from outside (SkyPay's fields,
 * refused bodies, receivers' answers) is escaped on terminals, isolated in HTML and stripped where neither works.
 */
export const BIDI_CONTROL_RANGES = '\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';

const BIDI_CONTROLS = new RegExp(`[${BIDI_CONTROL_RANGES}]`, 'g');

/** The text without its bidirectional formatting characters, for places that can neither show nor isolate them. */
export function stripBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}
