/**
 * Escape-by-default HTML templating for every page and email followback writes (the console, the
 * invite and approval pages, the loopback redirect's answer, the digest, its chart and the agency
 * roll-up): every value put into an `html` template is
 * escaped unless it is itself the result of `html` (or `raw`, used only for constants of the
 * caller's own making: a stylesheet, a script). A plain string can never pass as markup: a
 * forgotten escape is impossible by construction. Strangers' text (names, bios) also passes
 * `cleanText` (control and bidi characters removed, length cut) before it is shown.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Escapes text for an HTML text node or a quoted attribute value. Only this module calls it: every
 * page builds its markup with `html`, which escapes for it (test/presentation/escape-guard.test.ts).
 */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c] ?? c);
}

export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

/** What an `html` template takes: plain values are escaped, SafeHtml passes as it is. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i += 1) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Trusted markup (this module's constants); never a value from a request or a store. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** The fragments one after another, `separator` (plain text, escaped) between them. */
export function joinHtml(parts: readonly SafeHtml[], separator = ''): SafeHtml {
  return new SafeHtml(parts.map((part) => part.value).join(escapeHtml(separator)));
}
