import { createHash } from 'node:crypto';
import { DomUtils, parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import type { ApprovalCandidate } from '../../shared/domain/digest/index.ts';
import {
  APPROVAL_PAGE_SCRIPT,
  type ApprovalPageInput,
  approvalPageHeaders,
  parseApprovalForm,
  type RefusalReason,
  refusalHttpStatus,
  renderApprovalPage,
  renderRefusalPage,
  renderResultPage,
  renderUnsubscribePage,
} from '../../shared/presentation/approval/page.ts';
import { HOSTILE_ATTR, HOSTILE_BIO, HOSTILE_NAME, htmlElements, htmlText, user } from './digest-fixtures.ts';

const ACTION = 'https://approve.agency.example/approve';
const TOKEN_X = 'eyJ2IjoxfQ.c2lnbmF0dXJl"><x';

function candidates(): ApprovalCandidate[] {
  return [
    {
      user: user('111', 'clean', 1200, {
        avatarUrl: 'https://cdn.example/a.jpg',
        createdAt: Date.UTC(2019, 4, 1),
      }),
      at: 0,
      spamSignals: [],
    },
    {
      user: user('222', 'spammy', 3, {
        name: HOSTILE_ATTR,
        bio: HOSTILE_BIO,
        avatarUrl: 'javascript:alert(1)',
      }),
      at: 0,
      spamSignals: ['new_account', 'follow_ratio'],
    },
    { user: user('333', 'script', 50, { name: HOSTILE_NAME, protected: true }), at: 0, spamSignals: [] },
  ];
}

function pageInput(): ApprovalPageInput {
  return {
    agencyName: 'Sunrise Social Agency',
    clientName: 'Acme Bakery',
    timeZone: 'Asia/Tokyo',
    actionUrl: ACTION,
    expiresAt: Date.UTC(2026, 2, 10, 15, 0),
    accounts: [
      { accountId: 'acc-x', network: 'x', handle: 'acmebakery', token: TOKEN_X, candidates: candidates() },
      {
        accountId: 'acc-bsky',
        network: 'bluesky',
        handle: 'acme.bsky.social',
        token: 'tok-bsky',
        candidates: [],
      },
      {
        accountId: 'acc-masto',
        network: 'mastodon',
        handle: 'acme@mastodon.social',
        token: 'tok-masto',
        candidates: [{ user: user('444', 'toot@mastodon.social', 9), at: 0, spamSignals: [] }],
        selected: [],
      },
    ],
  };
}

/** What a browser would POST for a form: hidden inputs, ticked boxes, and the pressed button. */
function submit(
  html: string,
  formId: string,
  button: 'approve' | 'skip',
  tick?: (targetId: string) => boolean,
) {
  const doc = parseDocument(html);
  const form = DomUtils.findOne((e) => e.name === 'form' && e.attribs.id === formId, doc.children);
  if (form === null) throw new Error(`no form ${formId}`);
  const body = new URLSearchParams();
  for (const input of DomUtils.findAll((e) => e.name === 'input', form.children)) {
    const { type, name, value } = input.attribs;
    if (name === undefined) continue;
    if (type === 'hidden') body.append(name, value ?? '');
    if (type === 'checkbox') {
      const checked =
        tick === undefined ? input.attribs.checked !== undefined : tick(input.attribs['data-target-id']!);
      if (checked) body.append(name, value ?? '');
    }
  }
  const pressed = DomUtils.findOne(
    (e) => e.name === 'button' && e.attribs['data-action'] === button,
    form.children,
  );
  if (pressed === null) throw new Error(`no ${button} button`);
  body.append(pressed.attribs.name!, pressed.attribs.value!);
  return { action: form.attribs.action, method: form.attribs.method, body };
}

describe('approval page', () => {
  it('shows every account side by side with its network, each with its own form and token', () => {
    // Prepare / Act
    const html = renderApprovalPage(pageInput());
    // Assess
    const elements = htmlElements(html);
    const sections = elements.filter((e) => e.name === 'section');
    expect(sections.map((s) => s.attribs['data-network'])).toEqual(['x', 'bluesky', 'mastodon']);
    expect(sections[0]?.text).toContain('X @acmebakery');
    expect(sections[1]?.text).toContain('Nothing is waiting for approval');
    expect(sections[2]?.text).toContain('Mastodon @acme@mastodon.social');
    const forms = elements.filter((e) => e.name === 'form');
    expect(forms.map((f) => [f.attribs.method, f.attribs.action, f.attribs['data-account-id']])).toEqual([
      ['post', ACTION, 'acc-x'],
      ['post', ACTION, 'acc-masto'],
    ]);
  });

  it('lists each candidate with a checkbox, avatar or initial, name, handle, bio, counts and spam badges', () => {
    // Prepare / Act
    const html = renderApprovalPage(pageInput());
    // Assess
    const elements = htmlElements(html);
    const boxes = elements.filter((e) => e.name === 'input' && e.attribs.type === 'checkbox');
    expect(boxes.map((b) => [b.attribs.name, b.attribs.value, b.attribs['data-target-id']])).toEqual([
      ['approve', '111', '111'],
      ['approve', '222', '222'],
      ['approve', '333', '333'],
      ['approve', '444', '444'],
    ]);
    const labels = elements.filter((e) => e.name === 'label').map((l) => l.attribs.for);
    expect(labels).toEqual(boxes.map((b) => b.attribs.id));
    const items = elements.filter((e) => e.name === 'li');
    expect(items[0]?.text).toContain('1,200 followers · 100 following · joined May 2019');
    expect(items[0]?.text).toContain('Bio of clean');
    expect(items[1]?.text).toContain('New account');
    expect(items[1]?.text).toContain('Follows many, few follow back');
    expect(items[2]?.text).toContain('protected: the follow will be a request');
    const images = elements.filter((e) => e.name === 'img');
    expect(images.map((i) => [i.attribs.src, i.attribs.alt])).toEqual([
      ['https://cdn.example/a.jpg', 'Name clean'],
    ]);
  });

  it("escapes strangers' names and bios; its only script is its own select-all", () => {
    // Prepare / Act
    const html = renderApprovalPage(pageInput());
    // Assess
    const elements = htmlElements(html);
    const scripts = elements.filter((e) => e.name === 'script');
    expect(scripts.map((s) => s.text)).toEqual([APPROVAL_PAGE_SCRIPT]);
    for (const e of elements) {
      for (const key of Object.keys(e.attribs)) expect(key.startsWith('on'), `${e.name}[${key}]`).toBe(false);
      if (e.attribs.href !== undefined) expect(e.attribs.href).toMatch(/^https:\/\//);
    }
    expect(elements.some((e) => e.attribs.style !== undefined)).toBe(false);
    const text = htmlText(html);
    expect(text).toContain(HOSTILE_NAME);
    expect(text).toContain(HOSTILE_ATTR);
    const token = elements.find((e) => e.name === 'input' && e.attribs.name === 'token');
    expect(token?.attribs.value).toBe(TOKEN_X);
  });

  it('ticks clean candidates by default, or exactly the ones asked for', () => {
    // Prepare / Act
    const html = renderApprovalPage(pageInput());
    // Assess
    const checked = htmlElements(html)
      .filter((e) => e.attribs.type === 'checkbox' && e.attribs.checked !== undefined)
      .map((e) => e.attribs.value);
    expect(checked).toEqual(['111', '333']);
  });

  it('posts the token, the ticked ids and the button pressed, which the form parser accepts', () => {
    // Prepare
    const html = renderApprovalPage(pageInput());
    // Act
    const approve = submit(html, 'form-0', 'approve');
    const skip = submit(html, 'form-0', 'skip', (id) => id === '222');
    // Assess
    expect(approve.method).toBe('post');
    expect(parseApprovalForm(approve.body.toString())).toEqual({
      ok: true,
      token: TOKEN_X,
      action: 'approve',
      targetIds: ['111', '333'],
    });
    expect(parseApprovalForm(skip.body)).toEqual({
      ok: true,
      token: TOKEN_X,
      action: 'skip',
      targetIds: ['222'],
    });
  });

  it('says when the links stop working, in the client zone', () => {
    // Prepare / Act
    const text = htmlText(renderApprovalPage(pageInput()));
    // Assess: 15:00 UTC on 10 March is midnight on 11 March in Tokyo.
    expect(text).toMatch(/works until Wed,? 11 Mar 2026,? 00:00 \(Asia\/Tokyo\)/);
  });

  it('comes with headers whose CSP allows exactly its own style and script', () => {
    // Prepare
    const html = renderApprovalPage(pageInput());
    const doc = parseDocument(html);
    const style = DomUtils.textContent(DomUtils.findOne((e) => e.name === 'style', doc.children)!);
    const script = DomUtils.textContent(DomUtils.findOne((e) => e.name === 'script', doc.children)!);
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    // Act
    const headers = approvalPageHeaders({ formAction: ACTION });
    // Assess
    const csp = headers['Content-Security-Policy']!;
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain("form-action 'self' https://approve.agency.example");
    expect(csp).toContain("default-src 'none'");
    expect(headers['Referrer-Policy']).toBe('no-referrer');
    expect(headers['Cache-Control']).toBe('no-store');
  });
});

describe('approval form parser', () => {
  it('names the field that is wrong and never throws', () => {
    expect(parseApprovalForm('action=approve&approve=1')).toMatchObject({ ok: false, field: 'token' });
    expect(parseApprovalForm('token=a&token=b&action=approve')).toMatchObject({ ok: false, field: 'token' });
    expect(parseApprovalForm('token=t&action=delete')).toMatchObject({ ok: false, field: 'action' });
    expect(parseApprovalForm('token=t&action=approve&action=skip')).toMatchObject({
      ok: false,
      field: 'action',
    });
    expect(parseApprovalForm(`token=t&action=approve&approve=${'9'.repeat(300)}`)).toMatchObject({
      ok: false,
      field: 'approve',
    });
    expect(parseApprovalForm('%%%')).toMatchObject({ ok: false, field: 'token' });
    expect(parseApprovalForm('token=t&action=skip&approve=1&approve=1')).toEqual({
      ok: true,
      token: 't',
      action: 'skip',
      targetIds: ['1'],
    });
  });
});

describe('refusal, result and unsubscribe pages', () => {
  it('refuses a used or expired link in plain words, and every invalid link the same way', () => {
    // Prepare
    const invalid: RefusalReason[] = ['tampered', 'malformed', 'wrong_tenant', 'wrong_scope', 'not_found'];
    // Act
    const pages = invalid.map((r) => renderRefusalPage(r, { agencyName: 'Sunrise' }));
    const used = renderRefusalPage('used', { agencyName: 'Sunrise' });
    const expired = renderRefusalPage('expired', { agencyName: 'Sunrise' });
    // Assess
    expect(new Set(pages).size).toBe(1);
    expect(htmlText(pages[0]!)).toContain('This link is not valid');
    expect(htmlText(pages[0]!)).not.toContain('Sunrise');
    expect(htmlText(used)).toContain('This link has already been used');
    expect(htmlText(expired)).toContain('This link has expired');
    expect(htmlText(expired)).toContain('Nothing was changed');
    expect(invalid.map(refusalHttpStatus)).toEqual([400, 400, 400, 400, 400]);
    expect([refusalHttpStatus('used'), refusalHttpStatus('expired')]).toEqual([410, 410]);
    expect(htmlElements(used).some((e) => e.name === 'form' || e.name === 'script')).toBe(false);
  });

  it('reports what was done: approved 2, skipped 1', () => {
    // Act
    const html = renderResultPage({
      agencyName: 'Sunrise',
      clientName: HOSTILE_NAME,
      approved: 2,
      skipped: 1,
    });
    // Assess
    expect(htmlText(html)).toContain('Approved 2, skipped 1.');
    expect(htmlElements(html).some((e) => e.name === 'script')).toBe(false);
    expect(htmlText(html)).toContain(HOSTILE_NAME);
  });

  it('asks for one click before unsubscribing, posting the token and the RFC 8058 field', () => {
    // Prepare
    const html = renderUnsubscribePage({
      agencyName: 'Sunrise',
      clientName: 'Acme Bakery',
      actionUrl: 'https://approve.agency.example/unsubscribe',
      token: 'tok"<',
    });
    // Act
    const elements = htmlElements(html);
    // Assess
    const form = elements.find((e) => e.name === 'form');
    expect(form?.attribs.method).toBe('post');
    const hidden = elements.filter((e) => e.name === 'input').map((e) => [e.attribs.name, e.attribs.value]);
    expect(hidden).toEqual([
      ['token', 'tok"<'],
      ['List-Unsubscribe', 'One-Click'],
    ]);
  });
});
