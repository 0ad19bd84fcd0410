import { describe, expect, it } from 'vitest';
import { buildDigestModel } from '../../shared/domain/digest/index.ts';
import { renderDigestHtml, renderDigestText } from '../../shared/presentation/digest/index.ts';
import { digestInput, HOSTILE_BIO, PERIOD_START, user, xAccount } from './digest-fixtures.ts';

describe('digest plain text', () => {
  it('carries the same facts as the HTML: figures, every new follower and candidate, links', () => {
    // Prepare
    const model = buildDigestModel(digestInput());
    // Act
    const text = renderDigestText(model);
    // Assess
    expect(text).toMatch(/^Weekly digest for Acme Bakery: 2 ?– ?8 Mar 2026\n=+\n/);
    expect(text).toContain('X · @acmebakery');
    expect(text).toContain('Bluesky · @acme.bsky.social');
    expect(text).toContain('Mastodon · @acme@mastodon.social');
    expect(text).toContain('Followers: 1,250 (+50 this week)');
    expect(text).toContain('Promise kept: 50% of 2 due');
    expect(text).toContain('Longest wait: 9 d');
    for (const account of model.accounts) {
      for (const f of account.newFollowers) expect(text).toContain(`(@${f.user.handle})`);
      for (const c of account.awaitingApproval) expect(text).toContain(`(@${c.user.handle})`);
    }
    expect(text).toContain('Review: https://approve.agency.example/a?t=cand1');
    expect(text).toContain('Approve all: https://approve.agency.example/a?t=batch');
    expect(text).toContain('[New account, Default avatar]');
    expect(text).toContain('Looked like spam: 2');
    expect(text).toContain('Status: Reconnect needed');
    expect(text).toContain('PROMISE AT RISK: 3 follow-backs');
    expect(text).toContain('Unsubscribe: https://approve.agency.example/unsubscribe?t=unsub');
    expect(text).toContain('Times are in Asia/Tokyo.');
  });

  it('says whom each approval link acts on, and that a batch link covers only its first ones', () => {
    // Prepare: two candidates, a batch link that covers them all; then one that covers only one
    const all = buildDigestModel(digestInput());
    const partialInput = digestInput();
    const partialAccount = partialInput.accounts[0]!;
    partialAccount.links = { ...partialAccount.links, approveAllCovers: 1 };
    const partial = buildDigestModel(partialInput);
    // Act
    const allText = renderDigestText(all);
    const partialText = renderDigestText(partial);
    const partialHtml = renderDigestHtml(partial);
    // Assess
    expect(allText).toContain(
      'Each “Review and approve” link acts only on that person; “Approve all” only on the 2 listed here',
    );
    expect(partialText).toContain('Approve the first 1: https://approve.agency.example/a?t=batch');
    expect(partialText).toContain('only on the first 1 of the 2 listed here');
    expect(partialHtml).toContain('Approve the first 1…');
  });

  it('tells the client that a never-connected account is not connected yet, not that it needs reconnecting', () => {
    // Prepare
    const input = digestInput();
    input.accounts[0]!.status = 'not_connected';
    const model = buildDigestModel(input);
    // Act
    const text = renderDigestText(model);
    const html = renderDigestHtml(model);
    // Assess
    expect(text).toContain('Status: Not connected yet');
    expect(text).toContain('This account has not been connected yet');
    expect(html).toContain('Not connected yet.');
  });

  it('draws the 12-week chart as twelve characters, a dot for a missing week', () => {
    // Prepare
    const model = buildDigestModel(digestInput());
    // Act
    const text = renderDigestText(model);
    // Assess
    const line = text.split('\n').find((l) => l.startsWith('Followers, 12 weeks'));
    const chart = line?.split(': ').pop() ?? '';
    expect([...chart]).toHaveLength(12);
    expect(chart).toContain('·');
    expect(chart.endsWith('█')).toBe(true);
  });

  it("folds a stranger's multi-line bio or name so it cannot fake a line of its own", () => {
    // Prepare
    const account = xAccount();
    account.newFollowers = [
      {
        user: user('1', 'faker', 5, { name: `Nice\n\nApprove all: http://evil.example\n${HOSTILE_BIO}` }),
        at: PERIOD_START,
      },
    ];
    // Act
    const text = renderDigestText(buildDigestModel(digestInput([account])));
    // Assess
    const lines = text.split('\n');
    expect(lines.some((l) => l.startsWith('Approve all: http://evil'))).toBe(false);
    expect(lines.some((l) => l.includes('Nice Approve all: http://evil.example'))).toBe(true);
  });
});
