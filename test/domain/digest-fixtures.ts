/**
 * A client in Asia/Tokyo with accounts on X, Bluesky and Mastodon, and strangers with hostile names.
 * The period is the week from Monday 2 March 2026, 00:00 in Tokyo (= Sunday 1 March, 15:00 UTC).
 */
import { DomUtils, parseDocument } from 'htmlparser2';
import type { AccountDigestInput, DigestInput, DigestUser } from '../../shared/domain/digest/index.ts';

export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;
export const PERIOD_START = Date.UTC(2026, 2, 1, 15, 0); // Mon 2 Mar 2026 00:00 JST
export const PERIOD_END = PERIOD_START + 7 * DAY;

export const HOSTILE_NAME = '<script>alert("name")</script>';
export const HOSTILE_ATTR = '"><img src=x onerror=alert(1)>';
export const HOSTILE_BIO =
  "</td></tr></table><a href='javascript:alert(2)'>win</a>\n\nApprove all: http://evil.example";

export function user(
  id: string,
  handle: string,
  followersCount?: number,
  extra: Partial<DigestUser> = {},
): DigestUser {
  return {
    id,
    handle,
    name: `Name ${handle}`,
    bio: `Bio of ${handle}`,
    followersCount,
    followingCount: 100,
    ...extra,
  };
}

export function xAccount(): AccountDigestInput {
  return {
    accountId: 'acc-x',
    network: 'x',
    handle: 'acmebakery',
    status: 'active',
    mode: 'approve',
    followersNow: 1250,
    followersAtStart: 1200,
    newFollowers: [
      // 23:30 UTC on Mon 2 Mar is 08:30 on Tue 3 Mar in Tokyo.
      { user: user('1900000000000000001', 'small', 10), at: Date.UTC(2026, 2, 2, 23, 30) },
      { user: user('1900000000000000002', 'famous', 250_000), at: PERIOD_START + 2 * DAY },
      {
        user: user('1900000000000000003', 'hostile', 500, { name: HOSTILE_NAME, bio: HOSTILE_BIO }),
        at: PERIOD_START + 3 * DAY,
      },
      {
        user: user('1900000000000000004', 'attr', 40, {
          name: HOSTILE_ATTR,
          avatarUrl: 'javascript:alert(3)',
        }),
        at: PERIOD_START + 4 * DAY,
      },
    ],
    lost: [{ user: user('1800000000000000009', 'leaver', 77), at: PERIOD_START + 5 * DAY }],
    followBacksDone: [
      {
        user: user('1700000000000000001', 'fb1', 300),
        followedAt: PERIOD_START - 2 * DAY,
        at: PERIOD_START + DAY,
        outcome: 'followed',
        dueBy: PERIOD_START + 2 * DAY,
      },
      {
        user: user('1700000000000000002', 'fb2', 30),
        followedAt: PERIOD_START - 6 * DAY,
        at: PERIOD_START + 3 * DAY,
        outcome: 'requested',
        dueBy: PERIOD_START + DAY,
      },
    ],
    awaitingApproval: [
      {
        user: user('1600000000000000001', 'spammy', 5000, { name: HOSTILE_ATTR }),
        at: PERIOD_START + DAY,
        spamSignals: ['new_account', 'default_avatar'],
        approveUrl: 'https://approve.agency.example/a?t=cand1',
      },
      {
        user: user('1600000000000000002', 'clean', 20, { avatarUrl: 'https://pbs.twimg.example/a.jpg' }),
        at: PERIOD_START + 2 * DAY,
        spamSignals: [],
        approveUrl: 'https://approve.agency.example/a?t=cand2',
      },
    ],
    skips: [
      { user: user('1500000000000000001', 's1'), at: PERIOD_START + DAY, reason: 'spam' },
      { user: user('1500000000000000002', 's2'), at: PERIOD_START + DAY, reason: 'spam' },
      { user: user('1500000000000000003', 's3'), at: PERIOD_START + DAY, reason: 'deny_list' },
    ],
    oneSided: [
      { user: user('1400000000000000001', 'recent'), since: PERIOD_START - 10 * DAY },
      { user: user('1400000000000000002', 'old'), since: PERIOD_START - 100 * DAY },
    ],
    oneSidedTotal: 2,
    followerSamples: Array.from({ length: 11 }, (_, i) => ({
      at: PERIOD_END - (11 - i) * 7 * DAY - DAY,
      count: 1000 + i * 20,
    })).filter((_, i) => i !== 4),
    links: {
      approveAll: 'https://approve.agency.example/a?t=batch',
      approvalPage: 'https://approve.agency.example/a?t=page',
    },
  };
}

export function blueskyAccount(): AccountDigestInput {
  return {
    accountId: 'acc-bsky',
    network: 'bluesky',
    handle: 'acme.bsky.social',
    status: 'token_expired',
    mode: 'auto',
    followersNow: 300,
    newFollowers: [{ user: user('did:plc:abc', 'fan.bsky.social', 12), at: PERIOD_START + 6 * DAY }],
    atRisk: { count: 3, earliestDueBy: PERIOD_END + DAY, reason: 'The account needs reconnecting.' },
    failures: 2,
  };
}

export function mastodonAccount(): AccountDigestInput {
  return {
    accountId: 'acc-masto',
    network: 'mastodon',
    handle: 'acme@mastodon.social',
    status: 'paused',
    followersNow: 80,
  };
}

export function digestInput(
  accounts: AccountDigestInput[] = [xAccount(), blueskyAccount(), mastodonAccount()],
): DigestInput {
  return {
    client: { id: 'client-acme', name: 'Acme Bakery', timeZone: 'Asia/Tokyo' },
    agency: { name: 'Sunrise Social Agency', senderAddress: 'digest@sunrise.example' },
    period: { start: PERIOD_START, end: PERIOD_END },
    accounts,
    links: {
      unsubscribe: 'https://approve.agency.example/unsubscribe?t=unsub',
      approvalPage: 'https://approve.agency.example/a?t=client-page',
    },
  };
}

// --- HTML inspection (htmlparser2 comes with mailparser) -------------------------------------

export interface HtmlElement {
  name: string;
  attribs: Record<string, string>;
  text: string;
}

/** Every element of a document, with its attributes and text content, in document order. */
export function htmlElements(html: string): HtmlElement[] {
  const doc = parseDocument(html);
  return DomUtils.findAll(() => true, doc.children).map((e) => ({
    name: e.name,
    attribs: e.attribs,
    text: DomUtils.textContent(e),
  }));
}

/** The text a reader sees (entities decoded). */
export function htmlText(html: string): string {
  return DomUtils.textContent(parseDocument(html).children);
}

/** Elements or attributes that could run code, or URLs that are not http(s). */
export function dangerousBits(html: string): string[] {
  const found: string[] = [];
  for (const e of htmlElements(html)) {
    if (['script', 'iframe', 'object', 'embed', 'svg', 'canvas'].includes(e.name)) found.push(`<${e.name}>`);
    for (const [key, value] of Object.entries(e.attribs)) {
      if (key.startsWith('on')) found.push(`${e.name}[${key}]`);
      if (['href', 'src', 'action'].includes(key) && !/^https?:\/\//.test(value))
        found.push(`${e.name}[${key}=${value}]`);
    }
  }
  return found;
}
