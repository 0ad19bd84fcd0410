import { cleanText, escapeJsonText, stripControls } from '../shared/domain/text.ts';

export { escapeJsonText };

/**
 * Everything a command prints for people goes through here. Fields a stranger or an operator wrote
 * (names, handles, bios, ids, file values) go through `field` (cleanText: no escape sequences, no
 * controls, no bidi controls, line breaks folded), and every line written is passed through
 * stripControls as well, so a field that slipped past `field` still cannot drive the terminal.
 */
export const field = (value: string | number | undefined | null, maxLength = 500): string =>
  cleanText(value, maxLength);

/** Writes human output to stdout. */
export function say(text: string): void {
  process.stdout.write(stripControls(text));
}

/** Writes a human message to stderr. */
export function warn(text: string): void {
  process.stderr.write(stripControls(text));
}

/** One line to stdout. */
export const out = (line = ''): void => say(`${line}\n`);

/**
 * JSON for scripts. Strings stay whole (a script gets what is stored), but characters a terminal
 * or a bidi algorithm acts on are written as \u escapes (JSON.stringify leaves C1 controls and
 * bidi controls raw), so printing the JSON on a terminal is safe too; it parses to the same value.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${escapeJsonText(JSON.stringify(value, null, 2))}\n`);
}

/** JSON for scripts on one line (for commands whose JSON is the last line of their output). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${escapeJsonText(JSON.stringify(value))}\n`);
}
