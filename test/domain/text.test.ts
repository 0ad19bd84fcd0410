import { describe, expect, it } from 'vitest';
import { cleanText, escapeJsonText, hasUnsafeCharacters, stripControls } from '../../shared/domain/text.ts';

/** Any byte or character a terminal, a spreadsheet or a bidi algorithm would act on. */
const ACTIVE = /[\p{Cc}\p{Bidi_Control}\u2028\u2029\uFFF9-\uFFFB\u200B\uFEFF]/u;

describe('cleanText', () => {
  it('removes terminal escape sequences whole: CSI, OSC title, OSC 52 clipboard, OSC 8 hyperlink', () => {
    // Prepare
    const hostile =
      'Ann\u001b[2J\u001b[H\u001b]0;owned\u0007 \u001b]52;c;ZXZpbA==\u0007Lee \u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\ \u009b31mred';

    // Act
    const clean = cleanText(hostile);

    // Assess
    expect(clean).toBe('Ann Lee click red');
    expect(clean).not.toMatch(ACTIVE);
  });

  it('folds CR, LF, NEL and the Unicode line separators so a field cannot fake another line', () => {
    // Act
    const clean = cleanText('Bob\r\n12345  @fake (Fake)\u0085x\u2028y\u2029z\tw\vv\fu');

    // Assess
    expect(clean).toBe('Bob 12345 @fake (Fake) x y z w v u');
  });

  it('drops bidi controls, U+061C, the interlinear annotation marks and C1 controls', () => {
    // Act
    const clean = cleanText(
      'a\u202Eb\u2066c\u2069d\u061Ce\u200Ff\uFFF9g\uFFFAh\uFFFBi\u0085\u0081j\u007f\u0008k',
    );

    // Assess
    expect(clean).toBe('abcdefghi jk');
  });

  it('keeps letters, accents, emoji sequences and joiners that scripts need', () => {
    // Act
    const clean = cleanText('Zoë 👩‍👩‍👧 می‌خواهم Ünal');

    // Assess
    expect(clean).toBe('Zoë 👩‍👩‍👧 می‌خواهم Ünal');
  });

  it('cuts at a grapheme with an ellipsis', () => {
    expect(cleanText('👍🏽'.repeat(10), 4)).toBe('👍🏽👍🏽👍🏽…');
  });

  it('keeps text of exactly the limit in graphemes whole, however many code units it has', () => {
    // Prepare: three emoji are six UTF-16 units
    const exact = '😀👍🏽é';
    // Act / Assess
    expect(cleanText(exact, 3)).toBe(exact);
    expect(cleanText(`${exact}x`, 3)).toBe('😀👍🏽…');
    expect(cleanText('abcd', 4)).toBe('abcd');
    expect(cleanText('abcde', 4)).toBe('abc…');
  });

  it('cuts one grapheme short of the limit to make room for the ellipsis, without a space before it', () => {
    expect(cleanText('abcdef', 5)).toBe('abcd…');
    expect(cleanText('ab cdef', 4)).toBe('ab…');
    expect(cleanText('a'.repeat(201))).toBe(`${'a'.repeat(199)}…`);
    expect(cleanText('a'.repeat(200))).toBe('a'.repeat(200));
  });

  it('removes unterminated and two-byte escape sequences whole, leaving none of their parameters', () => {
    expect(cleanText('a\u001b[31')).toBe('a');
    expect(cleanText('b\u009b31')).toBe('b');
    expect(cleanText('c\u001b]0;title')).toBe('c');
    expect(cleanText('d\u001bce')).toBe('de');
    expect(cleanText('f\u001b(Bg')).toBe('fg');
  });

  it('reads nothing as text where there is none, and numbers as their digits', () => {
    expect(cleanText(undefined)).toBe('');
    expect(cleanText(null)).toBe('');
    expect(cleanText(42)).toBe('42');
  });
});

describe('stripControls', () => {
  it('keeps the lines of a report and drops what rewrites or reorders them', () => {
    // Act
    const clean = stripControls('name\tcount\r\nAnn\u202E\u0007 \u001b[2J3\u2028\n');

    // Assess
    expect(clean).toBe('name count\nAnn 3\n');
  });
});

describe('hasUnsafeCharacters', () => {
  it('flags controls, bidi controls and line breaks, and not ordinary text', () => {
    expect(hasUnsafeCharacters('Acme\u001b[31m')).toBe(true);
    expect(hasUnsafeCharacters('Acme\u202E')).toBe(true);
    expect(hasUnsafeCharacters('Acme\nBakery')).toBe(true);
    expect(hasUnsafeCharacters('Acme Bäckerei 🍞')).toBe(false);
  });
});

describe('escapeJsonText', () => {
  it('writes C1 and bidi controls as escapes, and parses back to the same value', () => {
    // Prepare
    const value = { name: 'a\u009b31m\u202Eb\u2028c\u001b' };

    // Act
    const json = escapeJsonText(JSON.stringify(value));

    // Assess
    expect(json).not.toMatch(/[\p{Cc}\p{Bidi_Control}\u2028]/u);
    expect(JSON.parse(json)).toEqual(value);
  });
});
