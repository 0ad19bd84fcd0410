import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import {
  buildDigestMime,
  buildRollupMime,
  listUnsubscribeValue,
} from '../../shared/adapters/mime/build-digest-mime.ts';
import { buildDigestModel, buildRollup } from '../../shared/domain/digest/index.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import {
  renderDigestCsv,
  renderDigestHtml,
  renderDigestText,
  renderRollupHtml,
  renderRollupText,
} from '../../shared/presentation/digest/index.ts';
import { digestInput, PERIOD_END, PERIOD_START } from './digest-fixtures.ts';

const UNSUB = 'https://approve.agency.example/unsubscribe?t=abc.def';

async function digestMessage(overrides: Partial<Parameters<typeof buildDigestMime>[0]> = {}) {
  const model = buildDigestModel(digestInput());
  const raw = await buildDigestMime({
    model,
    html: renderDigestHtml(model),
    text: renderDigestText(model),
    csv: renderDigestCsv(model),
    to: ['owner@acme.example', 'manager@acme.example'],
    unsubscribeUrl: UNSUB,
    unsubscribeMailto: 'mailto:unsubscribe@sunrise.example?subject=unsubscribe',
    messageId: 'digest.client-acme.2026-03-02@sunrise.example',
    date: PERIOD_END,
    ...overrides,
  });
  return { raw, parsed: await simpleParser(raw), model };
}

describe('digest MIME message', () => {
  it('parses back to a text part, an HTML part and the CSV attachment', async () => {
    // Prepare / Act
    const { parsed, model } = await digestMessage();
    // Assess
    expect(parsed.text).toContain('X · @acmebakery');
    expect(parsed.html).toContain('data-chart="followers"');
    expect(parsed.attachments).toHaveLength(1);
    const csv = parsed.attachments[0]!;
    expect(csv.contentType).toBe('text/csv');
    expect(csv.filename).toBe('acme-bakery-2026-03-02.csv');
    expect(csv.content.toString('utf8')).toBe(renderDigestCsv(model));
  });

  it('is multipart/alternative (text, then html) inside multipart/mixed, with CRLF line ends', async () => {
    // Prepare / Act
    const { raw } = await digestMessage();
    // Assess
    const text = raw.toString('utf8');
    expect(text).toMatch(/^Content-Type: multipart\/mixed;/m);
    expect(text).toMatch(/^Content-Type: multipart\/alternative;/m);
    expect(text.indexOf('Content-Type: text/plain')).toBeLessThan(text.indexOf('Content-Type: text/html'));
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('carries the one-click unsubscribe headers of RFC 8058', async () => {
    // Prepare / Act
    const { parsed } = await digestMessage();
    // Assess
    const lines = Object.fromEntries(parsed.headerLines.map((h) => [h.key, h.line]));
    expect(lines['list-unsubscribe']).toBe(
      `List-Unsubscribe: <${UNSUB}>, <mailto:unsubscribe@sunrise.example?subject=unsubscribe>`,
    );
    expect(lines['list-unsubscribe-post']).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(lines['auto-submitted']).toBe('Auto-Submitted: auto-generated');
  });

  it("sends from the agency's name and address, with the client and period in the subject", async () => {
    // Prepare / Act
    const { parsed } = await digestMessage();
    // Assess
    expect(parsed.from?.value).toEqual([
      { name: 'Sunrise Social Agency', address: 'digest@sunrise.example' },
    ]);
    expect(parsed.subject).toMatch(/^Weekly digest for Acme Bakery: 2 ?– ?8 Mar 2026$/);
    expect(parsed.messageId).toBe('<digest.client-acme.2026-03-02@sunrise.example>');
    expect(parsed.date?.getTime()).toBe(PERIOD_END);
    const to = Array.isArray(parsed.to) ? parsed.to : [parsed.to];
    expect(to.flatMap((t) => t?.value.map((v) => v.address))).toEqual([
      'owner@acme.example',
      'manager@acme.example',
    ]);
  });

  it('keeps a hostile agency or client name out of the other headers', async () => {
    // Prepare
    const input = digestInput();
    input.agency.name = 'Evil\r\nBcc: victim@example.com';
    input.client.name = 'Acme\r\nX-Injected: yes';
    const model = buildDigestModel(input);
    // Act
    const raw = await buildDigestMime({
      model,
      html: '<p>x</p>',
      text: 'x',
      csv: 'a\r\n',
      to: 'o@acme.example',
      unsubscribeUrl: UNSUB,
    });
    const parsed = await simpleParser(raw);
    // Assess
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(parsed.headers.has('x-injected')).toBe(false);
    expect(parsed.from?.value[0]?.name).toBe('Evil Bcc: victim@example.com');
  });

  it('refuses a plain-http unsubscribe URL (except on loopback), a bad address and a bad mailto', async () => {
    await expect(digestMessage({ unsubscribeUrl: 'http://approve.agency.example/u' })).rejects.toThrow(
      /unsubscribeUrl/,
    );
    await expect(digestMessage({ unsubscribeUrl: 'javascript:alert(1)' })).rejects.toThrow(ValidationError);
    await expect(digestMessage({ to: 'not an address' })).rejects.toThrow(/to\[0\]/);
    await expect(digestMessage({ from: 'a@b.example\r\nBcc: x@y.example' })).rejects.toThrow(/from/);
    await expect(digestMessage({ unsubscribeMailto: 'https://x.example' })).rejects.toThrow(
      /unsubscribeMailto/,
    );
    expect(listUnsubscribeValue('http://127.0.0.1:8787/unsubscribe?t=x')).toBe(
      '<http://127.0.0.1:8787/unsubscribe?t=x>',
    );
  });
});

describe('roll-up MIME message', () => {
  it('goes from the agency to the operator with text and HTML and no unsubscribe header', async () => {
    // Prepare
    const rollup = buildRollup({
      agency: { name: 'Sunrise Social Agency', senderAddress: 'digest@sunrise.example' },
      period: { start: PERIOD_START, end: PERIOD_END },
      digests: [buildDigestModel(digestInput())],
    });
    // Act
    const parsed = await simpleParser(
      await buildRollupMime({
        model: rollup,
        html: renderRollupHtml(rollup),
        text: renderRollupText(rollup),
        to: 'ops@sunrise.example',
      }),
    );
    // Assess
    expect(parsed.from?.value[0]).toEqual({
      name: 'Sunrise Social Agency',
      address: 'digest@sunrise.example',
    });
    expect(parsed.subject).toMatch(/^Agency roll-up/);
    expect(parsed.text).toContain('Acme Bakery / Bluesky');
    expect(parsed.html).toContain('data-section="rollup"');
    expect(parsed.headers.has('list-unsubscribe')).toBe(false);
  });
});
