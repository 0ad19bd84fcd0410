import { describe, expect, it } from 'vitest';
import { buildDigestModel, type DigestModel } from '../../shared/domain/digest/index.ts';
import { DEFAULT_MAX_HTML_BYTES, renderDigestHtml } from '../../shared/presentation/digest/index.ts';
import {
  DAY,
  dangerousBits,
  digestInput,
  HOSTILE_ATTR,
  HOSTILE_BIO,
  HOSTILE_NAME,
  htmlElements,
  htmlText,
  PERIOD_START,
  user,
  xAccount,
} from './digest-fixtures.ts';

function render(model: DigestModel = buildDigestModel(digestInput()), options = {}) {
  const html = renderDigestHtml(model, options);
  return { html, elements: htmlElements(html), text: htmlText(html) };
}

describe('digest HTML: strangers cannot inject markup', () => {
  it('escapes hostile names and bios so they show as text and never as elements', () => {
    // Prepare / Act
    const { html, text } = render();
    // Assess
    expect(dangerousBits(html)).toEqual([]);
    expect(html).not.toContain('<script');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;script&gt;');
    expect(text).toContain(HOSTILE_NAME);
    expect(text).toContain(HOSTILE_ATTR);
    // The bio shows as one line of text, its markup inert.
    expect(text).toContain(HOSTILE_BIO.replace(/\s+/g, ' ').slice(0, 60));
  });

  it('drops an avatar whose URL is not https, and gives every image an alt text', () => {
    // Prepare / Act
    const { elements } = render();
    // Assess
    const images = elements.filter((e) => e.name === 'img');
    expect(images.length).toBeGreaterThan(0);
    for (const img of images) {
      expect(img.attribs.src).toMatch(/^https:\/\//);
      expect(img.attribs.alt).toBeTruthy();
    }
  });

  it('never links a javascript: approval URL', () => {
    // Prepare
    const account = xAccount();
    account.awaitingApproval = [
      { user: user('1', 'c'), at: PERIOD_START, spamSignals: [], approveUrl: 'javascript:alert(1)' },
    ];
    account.links = { approveAll: 'javascript:alert(2)' };
    // Act
    const { html } = render(buildDigestModel(digestInput([account])));
    // Assess
    expect(dangerousBits(html)).toEqual([]);
    expect(html).not.toMatch(/href="javascript/i);
  });

  it('drops bidi overrides that would make a name read backwards', () => {
    // Prepare
    const account = xAccount();
    account.newFollowers = [{ user: user('1', 'rtl', 1, { name: 'abc\u202Egpj.exe' }), at: PERIOD_START }];
    // Act
    const { text } = render(buildDigestModel(digestInput([account])));
    // Assess
    expect(text).toContain('abcgpj.exe');
    expect(text).not.toContain('\u202E');
  });
});

describe('digest HTML: the facts', () => {
  it('lists every new follower and every candidate, with a link per candidate and for the batch', () => {
    // Prepare
    const model = buildDigestModel(digestInput());
    // Act
    const { elements } = render(model);
    // Assess
    const userIds = new Set(elements.map((e) => e.attribs['data-user-id']).filter(Boolean));
    for (const account of model.accounts) {
      for (const f of account.newFollowers) expect(userIds).toContain(f.user.id);
      for (const c of account.awaitingApproval) expect(userIds).toContain(c.user.id);
    }
    const hrefs = elements.filter((e) => e.name === 'a').map((e) => e.attribs.href);
    expect(hrefs).toContain('https://approve.agency.example/a?t=cand1');
    expect(hrefs).toContain('https://approve.agency.example/a?t=cand2');
    expect(hrefs).toContain('https://approve.agency.example/a?t=batch');
    expect(hrefs).toContain('https://approve.agency.example/a?t=page');
    expect(hrefs).toContain('https://approve.agency.example/unsubscribe?t=unsub');
  });

  it('shows every account side by side with its network named', () => {
    // Prepare / Act
    const { elements } = render();
    // Assess
    const sections = elements.filter((e) => e.attribs['data-account-id'] !== undefined && e.name === 'td');
    expect(sections.map((s) => s.attribs['data-network'])).toEqual(['x', 'bluesky', 'mastodon']);
    const overview = elements.find((e) => e.attribs['data-section'] === 'overview');
    expect(overview?.text).toContain('X');
    expect(overview?.text).toContain('Bluesky');
    expect(overview?.text).toContain('Mastodon');
    expect(overview?.text).toContain('@acme@mastodon.social');
  });

  it('draws a 12-bar chart per account from table cells, with missing weeks as stubs', () => {
    // Prepare / Act
    const { elements, html } = render();
    // Assess
    const charts = elements.filter((e) => e.attribs['data-chart'] === 'followers');
    expect(charts).toHaveLength(3);
    const bars = elements.filter((e) => e.attribs['data-chart-bar'] !== undefined);
    expect(bars).toHaveLength(36);
    const xBars = bars.slice(0, 12);
    expect(xBars.map((b) => b.attribs['data-count'])).toContain('');
    expect(xBars[11]?.attribs['data-count']).toBe('1250');
    expect(html).not.toMatch(/<svg|<canvas|display:\s*(flex|grid)/i);
  });

  it('says the reconnect, pause and at-risk states plainly', () => {
    // Prepare / Act
    const { text } = render();
    // Assess
    expect(text).toContain('Reconnect needed.');
    expect(text).toContain('Paused.');
    expect(text).toContain('Promise at risk.');
    expect(text).toContain('3 follow-backs may miss the promised window');
  });

  it('shows dates in the client zone: a Tokyo follower at 23:30 UTC Monday followed on Tuesday', () => {
    // Prepare
    const account = xAccount();
    account.newFollowers = [{ user: user('1', 'early'), at: Date.UTC(2026, 2, 2, 23, 30) }];
    // Act
    const { text } = render(buildDigestModel(digestInput([account])));
    // Assess
    expect(text).toContain('Followed Tue 3 Mar');
    expect(text).not.toContain('Followed Mon 2 Mar');
    expect(text).toContain('Times are in Asia/Tokyo');
  });

  it('names the agency and the client, and the skips by reason', () => {
    // Prepare / Act
    const { text, elements } = render();
    // Assess
    expect(text).toContain('Sunrise Social Agency');
    expect(text).toContain('Acme Bakery');
    const spam = elements.find((e) => e.attribs['data-skip-reason'] === 'spam');
    expect(spam?.text).toBe('2');
  });

  it('lists at most maxListed people and says how many more are in the CSV', () => {
    // Prepare
    const account = xAccount();
    account.newFollowers = Array.from({ length: 25 }, (_, i) => ({
      user: user(String(i), `f${i}`, i),
      at: PERIOD_START + DAY,
    }));
    // Act
    const { elements, text } = render(buildDigestModel(digestInput([account])), { maxListed: 10 });
    // Assess
    const section = elements.find((e) => e.attribs['data-section'] === 'new-followers');
    expect(section?.text).toContain('New followers (25)');
    expect(text).toContain('…and 15 more in the attached CSV.');
    // The most notable are the ones shown.
    expect(section?.text).toContain('@f24');
    expect(section?.text).not.toContain('@f5 ');
  });

  it('shortens the lists to stay under the size budget (Gmail clips at 102 KB)', () => {
    // Prepare
    const big = (id: string) => {
      const a = xAccount();
      a.accountId = id;
      a.newFollowers = Array.from({ length: 60 }, (_, i) => ({
        user: user(`${id}-${i}`, `n${i}`, i, { bio: 'x'.repeat(140) }),
        at: PERIOD_START,
      }));
      return a;
    };
    const model = buildDigestModel(digestInput([big('a'), big('b'), big('c')]));
    // Act
    const unlimited = renderDigestHtml(model, { maxListed: 60, maxBytes: Number.POSITIVE_INFINITY });
    const budgeted = renderDigestHtml(model, { maxListed: 60 });
    // Assess
    expect(Buffer.byteLength(unlimited)).toBeGreaterThan(DEFAULT_MAX_HTML_BYTES);
    expect(Buffer.byteLength(budgeted)).toBeLessThanOrEqual(DEFAULT_MAX_HTML_BYTES);
    expect(htmlText(budgeted)).toContain('New followers (60)');
    expect(htmlText(budgeted)).toMatch(/…and \d+ more in the attached CSV\./);
  });

  it('keeps a 600px layout table with no external stylesheet or script', () => {
    // Prepare / Act
    const { elements } = render();
    // Assess
    const container = elements.find((e) => e.attribs.class === 'fb-container');
    expect(container?.attribs.width).toBe('600');
    expect(elements.some((e) => e.name === 'link')).toBe(false);
    expect(elements.some((e) => e.name === 'script')).toBe(false);
  });
});
