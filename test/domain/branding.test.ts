/**
 * A client's branding (display name, accent colour, logo) on its digest and its approval page:
 * only validated values get through, they cannot become markup or a script URL, and the approval
 * page's strict CSP still names exactly the stylesheet it serves.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accentTextColour, safeAccent, safeLogoUrl } from '../../shared/domain/branding.ts';
import { buildDigestModel, digestSubject } from '../../shared/domain/digest/index.ts';
import {
  approvalPageHeaders,
  approvalPageStyle,
  renderApprovalPage,
  renderResultPage,
} from '../../shared/presentation/approval/page.ts';
import { renderDigestHtml } from '../../shared/presentation/digest/index.ts';
import { dangerousBits, digestInput, htmlElements } from './digest-fixtures.ts';

const LOGO = 'https://cdn.acme.example/logo.png';

describe('branding values', () => {
  it('accepts a #rrggbb accent and an https logo, and nothing else', () => {
    expect(safeAccent('#C0FFEE')).toBe('#c0ffee');
    for (const bad of ['red', '#abc', '#12345g', 'url(javascript:x)', '#123456;}body{x', '', undefined]) {
      expect(safeAccent(bad)).toBeUndefined();
    }
    expect(safeLogoUrl(LOGO)).toBe(LOGO);
    for (const bad of [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      'http://cdn.acme.example/logo.png',
      'data:image/png;base64,AAAA',
      'https://user:pw@cdn.acme.example/logo.png',
      'https://cdn.acme.example/a"onerror="x.png',
      "https://cdn.acme.example/a')}.png",
      'https://cdn.acme.example/a b.png',
      '//cdn.acme.example/logo.png',
      `https://cdn.acme.example/${'a'.repeat(2100)}`,
    ]) {
      expect(safeLogoUrl(bad), bad).toBeUndefined();
    }
  });

  it('picks the text colour that contrasts with the accent', () => {
    expect(accentTextColour('#1d4fbf')).toBe('#ffffff');
    expect(accentTextColour('#ffe14d')).toBe('#111827');
  });
});

describe('a branded digest', () => {
  const branded = (client: Record<string, string>) => {
    const input = digestInput();
    return buildDigestModel({ ...input, client: { ...input.client, ...client } });
  };

  it('shows the display name in the subject and header, the logo, and the accent on its buttons', () => {
    // Prepare
    const model = branded({ name: 'Acme Bakery & Café', accent: '#c2410c', logoUrl: LOGO });
    // Act
    const html = renderDigestHtml(model);
    // Assess
    expect(digestSubject(model)).toContain('Acme Bakery & Café');
    const logo = htmlElements(html).find((e) => e.attribs['data-brand-logo'] !== undefined);
    expect(logo?.attribs.src).toBe(LOGO);
    expect(html).toMatch(/<td align="center" bgcolor="#c2410c"[^>]*><a href="[^"]*" data-link="approve-all"/);
    expect(html).toContain('border-top:4px solid #c2410c');
    expect(dangerousBits(html)).toEqual([]);
  });

  it('falls back to the defaults for a hostile accent or logo, which never reach the HTML', () => {
    // Prepare
    const model = branded({ accent: '#000;background:url(javascript:x)', logoUrl: 'javascript:alert(1)' });
    // Act
    const html = renderDigestHtml(model);
    // Assess
    expect(model.client.accent).toBeUndefined();
    expect(model.client.logoUrl).toBeUndefined();
    expect(html).not.toContain('background:url(javascript:x)');
    expect(html).not.toContain('src="javascript:');
    expect(html).toContain('#1d4fbf');
    expect(htmlElements(html).some((e) => e.attribs['data-brand-logo'] !== undefined)).toBe(false);
  });
});

describe('a branded approval page', () => {
  const input = {
    agencyName: 'Sunrise Social Agency',
    clientName: 'Acme Bakery & Café',
    timeZone: 'Europe/Berlin',
    actionUrl: 'https://approve.agency.example/approve/acme',
    accounts: [],
  };
  const styleOf = (html: string) => /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
  const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

  it('uses the accent in a stylesheet the CSP names by its hash, and shows the logo without a referrer', () => {
    // Prepare
    const brand = { accent: '#c2410c', logoUrl: LOGO };
    // Act
    const html = renderApprovalPage({ ...input, brand });
    const headers = approvalPageHeaders({ formAction: input.actionUrl, brand });
    // Assess
    const style = styleOf(html);
    expect(style).toContain('--accent:#c2410c');
    expect(headers['Content-Security-Policy']).toContain(`style-src ${hashOf(style)}`);
    expect(headers['Content-Security-Policy']).toContain('img-src https: data:');
    const logo = htmlElements(html).find((e) => e.attribs['data-brand-logo'] !== undefined);
    expect(logo?.attribs).toMatchObject({ src: LOGO, referrerpolicy: 'no-referrer' });
    expect(html).toContain('Acme Bakery &amp; Café');
  });

  it('drops a hostile accent and logo: the default stylesheet, no image, the same CSP as unbranded', () => {
    // Prepare
    const brand = { accent: 'red;}*{display:none', logoUrl: 'javascript:alert(1)' };
    // Act
    const html = renderResultPage({ ...input, approved: 1, skipped: 0, brand });
    const headers = approvalPageHeaders({ brand });
    // Assess
    expect(styleOf(html)).toBe(approvalPageStyle());
    expect(headers['Content-Security-Policy']).toBe(approvalPageHeaders()['Content-Security-Policy']);
    expect(html).not.toContain('javascript:');
    expect(htmlElements(html).some((e) => e.name === 'img')).toBe(false);
  });
});
