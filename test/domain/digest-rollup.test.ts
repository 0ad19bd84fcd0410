import { describe, expect, it } from 'vitest';
import { buildDigestModel, buildRollup, type DigestModel } from '../../shared/domain/digest/index.ts';
import { renderRollupHtml, renderRollupText } from '../../shared/presentation/digest/index.ts';
import {
  blueskyAccount,
  dangerousBits,
  digestInput,
  HOSTILE_NAME,
  htmlElements,
  htmlText,
  mastodonAccount,
  PERIOD_END,
  PERIOD_START,
  xAccount,
} from './digest-fixtures.ts';

function digestFor(id: string, name: string, accounts = [xAccount()]): DigestModel {
  const input = digestInput(accounts);
  input.client = { id, name, timeZone: 'Europe/Paris' };
  return buildDigestModel(input);
}

function healthy() {
  const a = xAccount();
  a.accountId = 'acc-ok';
  a.handle = 'fine';
  a.followBacksDone = [];
  return a;
}

describe('agency roll-up', () => {
  it('lists one line per client and account, problems first', () => {
    // Prepare
    const digests = [
      digestFor('c-a', 'Aardvark Ltd', [healthy()]),
      digestFor('c-b', 'Bakery', [xAccount(), blueskyAccount(), mastodonAccount()]),
      digestFor('c-c', 'Empty Co', []),
    ];
    // Act
    const rollup = buildRollup({
      agency: { name: 'Sunrise', senderAddress: 'ops@sunrise.example' },
      period: { start: PERIOD_START, end: PERIOD_END },
      digests,
    });
    // Assess
    expect(rollup.rows.map((r) => [r.clientName, r.accountId, r.problems])).toEqual([
      ['Bakery', 'acc-bsky', ['token_expired', 'promise_at_risk', 'failures']],
      ['Bakery', 'acc-x', ['promise_missed']],
      ['Bakery', 'acc-masto', ['paused']],
      ['Empty Co', '', ['no_accounts']],
      ['Aardvark Ltd', 'acc-ok', []],
    ]);
    expect(rollup.totals).toMatchObject({ clients: 3, accounts: 4, rowsWithProblems: 4 });
  });

  it('renders the same lines as text and escaped HTML', () => {
    // Prepare
    const rollup = buildRollup({
      agency: { name: 'Sunrise', senderAddress: 'ops@sunrise.example', timeZone: 'Asia/Tokyo' },
      period: { start: PERIOD_START, end: PERIOD_END },
      digests: [
        digestFor('c-evil', HOSTILE_NAME, [blueskyAccount()]),
        digestFor('c-a', 'Aardvark', [healthy()]),
      ],
    });
    // Act
    const text = renderRollupText(rollup);
    const html = renderRollupHtml(rollup);
    // Assess
    const lines = text.split('\n').filter((l) => l.startsWith('['));
    expect(lines[0]).toContain('[RECONNECT NEEDED, PROMISE AT RISK, FAILURES]');
    expect(lines[0]).toContain('Bluesky @acme.bsky.social');
    expect(lines[1]).toMatch(/^\[ok\] Aardvark \/ X @fine/);
    expect(dangerousBits(html)).toEqual([]);
    expect(htmlText(html)).toContain(HOSTILE_NAME);
    const rows = htmlElements(html).filter(
      (e) => e.name === 'tr' && e.attribs['data-client-id'] !== undefined,
    );
    expect(rows.map((r) => r.attribs['data-problems'])).toEqual([
      'token_expired promise_at_risk failures',
      '',
    ]);
    expect(text).toMatch(/Agency roll-up, 2 ?– ?8 Mar 2026: 1 needs attention/);
  });
});
