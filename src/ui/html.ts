import { stripBidiControls } from '../bidi';

/**
 * The dashboard's one escaping helper. Pages are built with the `html` tag: every value interpolated into it is
 * escaped, unless it is itself the result of `html` (markup we wrote). Text from callbacks and receivers can
 * therefore only ever reach a page as text. Text between tags is also isolated in `<bdi>`: a value holding a
 * right-to-left override (U+202E) or right-to-left letters cannot reorder the words around it. Where an element
 * cannot be (attributes, `<title>`, `<textarea>`, `<option>`, SVG), the bidirectional controls are dropped.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Fragment = Html | string | number | boolean | null | undefined | readonly Fragment[];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Where a value lands: between tags (isolated), or where markup cannot go (controls dropped). */
type Slot = 'text' | 'bare';

/** Elements whose content is text only, or not HTML: a `<bdi>` there would show as text or not at all. */
const BARE_ELEMENTS = new Set(['title', 'textarea', 'option', 'script', 'style']);

/** The slot of each value of a template, from the markup written before it (cached: a template's strings are fixed). */
const slotsOf = (() => {
  const cache = new WeakMap<TemplateStringsArray, Slot[]>();
  return (strings: TemplateStringsArray): Slot[] => {
    let slots = cache.get(strings);
    if (slots === undefined) {
      slots = [];
      let before = '';
      for (let i = 0; i < strings.length - 1; i++) {
        before += strings[i] ?? '';
        slots.push(slotAt(before));
      }
      cache.set(strings, slots);
    }
    return slots;
  };
})();

function slotAt(markup: string): Slot {
  // Inside a tag: an attribute's value (or its name).
  if (markup.lastIndexOf('<') > markup.lastIndexOf('>')) return 'bare';
  if (markup.split('<svg').length > markup.split('</svg').length) return 'bare';
  const tags = [...markup.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/g)];
  const last = tags[tags.length - 1];
  return last !== undefined && last[1] === '' && BARE_ELEMENTS.has((last[2] ?? '').toLowerCase()) ? 'bare' : 'text';
}

function render(value: Fragment, slot: Slot): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly Fragment[]).map((v) => render(v, slot)).join('');
  if (typeof value !== 'string') return escapeHtml(String(value));
  if (slot === 'bare') return escapeHtml(stripBidiControls(value));
  return value === '' ? '' : `<bdi>${escapeHtml(value)}</bdi>`;
}

export function html(strings: TemplateStringsArray, ...values: Fragment[]): Html {
  const slots = slotsOf(strings);
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value, slots[i] ?? 'bare') + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** A query string from the parameters that are set, for links that keep a page's filters. */
export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}
