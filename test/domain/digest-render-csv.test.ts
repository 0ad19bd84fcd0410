import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDigestModel } from '../../shared/domain/digest/index.ts';
import { cleanText } from '../../shared/domain/text.ts';
import {
  CSV_HEADER,
  csvCell,
  csvRow,
  digestCsvFilename,
  renderDigestCsv,
} from '../../shared/presentation/digest/index.ts';
import { digestInput, HOSTILE_NAME, PERIOD_START, user, xAccount } from './digest-fixtures.ts';

/** A strict RFC 4180 reader: the test's own, so it cannot share a bug with the writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        i++;
        continue;
      }
      cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 2;
    } else if (c === '"' || c === '\n' || c === '\r') {
      throw new Error(`unquoted ${JSON.stringify(c)} at ${i}`);
    } else {
      cell += c;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quote');
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/**
 * How Excel and LibreOffice read a line with a delimiter the file was not written for: a cell is
 * quoted only when it starts with a quote; a quote elsewhere is text.
 */
function readLikeASpreadsheet(text: string, delimiter: string): string[][] {
  return text
    .split(/\r\n/)
    .filter((line) => line !== '')
    .map((line) => {
      const cells: string[] = [];
      let i = 0;
      while (i <= line.length) {
        let cell = '';
        if (line[i] === '"') {
          i++;
          while (i < line.length && !(line[i] === '"' && line[i + 1] !== '"')) {
            cell += line[i] === '"' ? '"' : line[i];
            i += line[i] === '"' ? 2 : 1;
          }
          i++;
        }
        while (i < line.length && line[i] !== delimiter) cell += line[i++];
        cells.push(cell);
        i++;
      }
      return cells;
    });
}

/** Strings rich in the characters that matter to CSV, plus arbitrary Unicode. */
const cellText = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      'a',
      ',',
      ';',
      '"',
      '\n',
      '\r',
      '=',
      '+',
      '-',
      '@',
      '\t',
      ' ',
      'é',
      '😀',
      '\u202E',
      '\u001b',
    ),
    maxLength: 10,
  }),
  fc.string({ unit: 'grapheme-composite', maxLength: 12 }),
);

describe('CSV cells', () => {
  it('quotes commas, semicolons and quotes, and folds line breaks', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('line break');
    expect(csvCell('a;b')).toBe('"a;b"');
    expect(csvCell('plain')).toBe('plain');
  });

  it('defuses formula injection by prefixing = + - @ with an apostrophe', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvCell('+1+2')).toBe("'+1+2");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'=1");
    expect(csvCell('\r=1')).toBe("'=1");
    expect(csvCell('\uFF1D1+1')).toBe("'\uFF1D1+1");
  });

  it('defuses formulas after a semicolon or comma, where other locales split the line', () => {
    expect(csvCell("Bob;=1+1;=cmd|'/C calc'!A0")).toBe(`"Bob;'=1+1;'=cmd|'/C calc'!A0"`);
    expect(csvCell('a, -1; "@x"')).toBe(`"a, '-1; ""'@x"""`);
    expect(csvCell('Anne-Marie Smith-Jones')).toBe('Anne-Marie Smith-Jones');
  });

  it("keeps a stranger's own apostrophe before a sign as text", () => {
    expect(csvCell("'+")).toBe("'+");
    expect(csvCell("a,'-b")).toBe(`"a,'-b"`);
  });

  it('cleans controls, bidi controls and line breaks out of cells', () => {
    expect(csvCell('Eve\u001b[2J\u202Eevil\r\nnext\u061C\uFFF9')).toBe('Eveevil next');
  });

  it('round-trips any row through a strict reader, changing only what could run or move text', () => {
    fc.assert(
      fc.property(fc.array(cellText, { minLength: 1, maxLength: 6 }), (cells) => {
        // Act
        const [parsed] = parseCsv(`${csvRow(cells)}\r\n`);
        // Assess: the cleaned text, the writer adding nothing but apostrophes before formula
        // triggers (stripped from both sides, since a stranger's own "'+" is text too)
        const withoutDefusing = (cell: string) => cell.replace(/'(?=[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/g, '');
        const cleaned = cells.map((c) => cleanText(c, 2000));
        expect(parsed?.map(withoutDefusing)).toEqual(cleaned.map(withoutDefusing));
        for (const [i, cell] of (parsed ?? []).entries()) {
          expect(cell.length).toBeGreaterThanOrEqual(cleaned[i]?.length ?? 0);
        }
      }),
    );
  });

  it('leaves no cell a spreadsheet would run, read with comma, semicolon or tab', () => {
    fc.assert(
      fc.property(fc.array(cellText, { minLength: 1, maxLength: 6 }), (cells) => {
        // Act
        const line = `${csvRow(['2026-03-02 08:00 +01:00', ...cells])}\r\n`;
        // Assess
        for (const delimiter of [',', ';', '\t']) {
          for (const cell of readLikeASpreadsheet(line, delimiter).flat()) {
            expect(cell).not.toMatch(/^\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/);
          }
        }
      }),
    );
  });
});

describe('the digest CSV', () => {
  it('has one row per event of the week, dated in the client zone', () => {
    // Prepare
    const model = buildDigestModel(digestInput());
    // Act
    const csv = renderDigestCsv(model);
    // Assess
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const rows = parseCsv(csv.slice(1));
    expect(rows[0]).toEqual([...CSV_HEADER]);
    const body = rows.slice(1);
    // X: 4 new, 1 lost, 2 followed back, 3 skipped, 2 awaiting; Bluesky: 1 new.
    expect(body).toHaveLength(13);
    const byType = (t: string) => body.filter((r) => r[3] === t).length;
    expect(byType('new_follower')).toBe(5);
    expect(byType('lost_follower')).toBe(1);
    expect(byType('followed_back')).toBe(2);
    expect(byType('skipped')).toBe(3);
    expect(byType('awaiting_approval')).toBe(2);
    const small = body.find((r) => r[5] === 'small');
    expect(small?.[0]).toBe('2026-03-03 08:30 +09:00');
    expect(small?.[4]).toBe('1900000000000000001');
    const fan = body.find((r) => r[5] === 'fan.bsky.social');
    expect(fan?.slice(1, 5)).toEqual(['acme.bsky.social', 'bluesky', 'new_follower', 'did:plc:abc']);
    expect(body.map((r) => r[0])).toEqual([...body.map((r) => r[0])].sort());
  });

  it('keeps hostile names intact but inert', () => {
    // Prepare
    const account = xAccount();
    account.newFollowers = [
      { user: user('1', 'formula', 1, { name: '=cmd|"/c calc"!A1' }), at: PERIOD_START },
      { user: user('2', 'multi', 1, { name: 'two\nlines, "quoted"' }), at: PERIOD_START },
      { user: user('3', 'script', 1, { name: HOSTILE_NAME }), at: PERIOD_START },
      { user: user('4', 'split', 1, { name: "Bob;=1+1;=cmd|'/C calc'!A0", bio: '@x' }), at: PERIOD_START },
    ];
    const model = buildDigestModel(digestInput([account]));
    // Act
    const rows = parseCsv(renderDigestCsv(model, { bom: false }));
    // Assess
    const names = Object.fromEntries(rows.map((r) => [r[5], r[6]]));
    expect(names.formula).toBe('\'=cmd|"/c calc"!A1');
    expect(names.multi).toBe('two lines, "quoted"');
    expect(names.script).toBe(HOSTILE_NAME);
    expect(names.split).toBe("Bob;'=1+1;'=cmd|'/C calc'!A0");
    const csv = renderDigestCsv(model, { bom: false });
    for (const delimiter of [',', ';', '\t']) {
      for (const cell of readLikeASpreadsheet(csv, delimiter).flat()) expect(cell).not.toMatch(/^\s*[=+\-@]/);
    }
  });

  it('names the file after the client and the first day of the period', () => {
    // Prepare
    const input = digestInput();
    input.client.name = 'Café Ünïcode & Co.';
    // Act
    const name = digestCsvFilename(buildDigestModel(input));
    // Assess
    expect(name).toBe('cafe-unicode-co-2026-03-02.csv');
  });
});
