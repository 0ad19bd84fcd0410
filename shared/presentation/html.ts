/**
 * Escape-by-default HTML templating for the console and the invite pages: every value put into an
 * `html` template is escaped unless it is itself the result of `html` (or `raw`, used only for
 * constants of this module's own making). Strangers' text (names, bios) also passes `userText`
 * (control and bidi characters removed, length cut) before it is shown.
 */
import { escapeHtml } from '../domain/digest/html.ts';

export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

type Value = SafeHtml | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly Value[]).map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i += 1) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Trusted markup (this module's constants); never a value from a request or a store. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
