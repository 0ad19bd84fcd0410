/**
 * The one cleaner for text written by strangers (followers' names, handles, bios) or typed by
 * operators (client names, ids, file values) before it is shown to a person: on a terminal, in
 * the digest's HTML and plain text, in its CSV, on the approval page, in mail headers.
 *
 * - Terminal escape sequences go whole (CSI such as "clear screen", OSC such as "set title",
 *   OSC 52 clipboard writes and OSC 8 hyperlinks, DCS/APC strings, their 8-bit C1 forms), so
 *   nothing of them reaches a terminal and no stray `[2J` is left to read.
 * - Every other C0/C1 control (ESC, BEL, backspace, DEL, …) is dropped.
 * - Bidi controls (U+061C, U+200E/F, U+202A–E, U+2066–9) are dropped, so a name cannot read
 *   backwards or carry the text after it along; so are U+200B, U+FEFF and the interlinear
 *   annotation marks U+FFF9–FFFB, which hide text.
 * - Line breaks of every kind (CR, LF, VT, FF, NEL, U+2028/9) and tabs fold into one space with
 *   the rest of the whitespace, so one field can never fake another line.
 *
 * Pure: no imports. Returns plain text; escape it for HTML or quote it for CSV.
 */

/** ESC-introduced sequences and their 8-bit forms (ECMA-48): CSI, OSC/DCS/SOS/PM/APC strings, two-byte escapes. */
const ESCAPE_SEQUENCES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control sequences is the point
  /\u001B\[[0-?]*[ -/]*[@-~]?|\u009B[0-?]*[ -/]*[@-~]?|(?:\u001B[\]PX^_]|[\u0090\u0098\u009D\u009E\u009F])[^\u0007\u001B\u009C]*(?:\u0007|\u001B\\|\u009C)?|\u001B[ -/]*[0-~]?/g;

/** Line breaks and tabs: become spaces (then fold with the other whitespace). */
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;

/** What is left to drop: controls, bidi controls, invisible spacers and annotation marks. */
const UNSAFE = /[\p{Cc}\p{Bidi_Control}\u200B\uFEFF\uFFF9-\uFFFB]/gu;

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Cleans text for display: drops escape sequences, controls and bidi controls, folds every run
 * of whitespace (line breaks included) into one space, trims, and cuts at `maxLength` graphemes
 * with an ellipsis (never inside an emoji or a combining sequence).
 */
export function cleanText(value: string | number | undefined | null, maxLength = 200): string {
  if (value === undefined || value === null) return '';
  const folded = String(value)
    .replace(ESCAPE_SEQUENCES, '')
    .replace(BREAKS, ' ')
    .replace(UNSAFE, '')
    .replace(/\s+/g, ' ')
    .trim();
  // One count, in graphemes, decides (a count of code units first would be a second limit to keep
  // in step); reading stops at the first grapheme past the limit, however long the text.
  const kept: string[] = [];
  for (const { segment } of segmenter.segment(folded)) {
    if (kept.length === maxLength)
      return `${kept
        .slice(0, maxLength - 1)
        .join('')
        .trimEnd()}…`;
    kept.push(segment);
  }
  return folded;
}

/**
 * The net under every line a command prints: escape sequences, controls other than the newline
 * (CR, which rewrites a line, included; tabs become spaces) and bidi controls go, the layout stays.
 * Fields still go through cleanText, which also folds their line breaks.
 */
export function stripControls(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, '').replace(/\t/g, ' ').replace(LINE_UNSAFE, '');
}

/** UNSAFE and the line breaks other than LF. */
const LINE_UNSAFE = /(?!\n)[\p{Cc}\p{Bidi_Control}\u200B\u2028\u2029\uFEFF\uFFF9-\uFFFB]/gu;

/** True when the text holds a control, bidi control or line break (refused in names and handles at input). */
export function hasUnsafeCharacters(value: string): boolean {
  return new RegExp(BREAKS.source).test(value) || new RegExp(UNSAFE.source, 'u').test(value);
}

/**
 * JSON text with the characters a terminal or a bidi algorithm acts on written as \u escapes
 * (JSON.stringify escapes C0 controls but leaves DEL, C1 controls, bidi controls and the line
 * separators raw). Parses to the same value; safe to print or tail.
 */
export function escapeJsonText(json: string): string {
  return json.replace(
    /[\u007F-\u009F\p{Bidi_Control}\u200B\u2028\u2029\uFEFF\uFFF9-\uFFFB]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
