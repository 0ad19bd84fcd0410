import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../shared/config/policy.ts';
import {
  type CandidateProfile,
  DAY_MS,
  type EnginePolicy,
  evaluateCandidate,
  hasNoBotTag,
  spamSignals,
} from '../../shared/domain/engine/index.ts';

const NOW = Date.UTC(2026, 4, 1, 12);

/** A plausible real person: bio, picture, a year old, balanced counts. */
function person(overrides: Partial<CandidateProfile> = {}): CandidateProfile {
  return {
    id: '1790000000000000001',
    handle: 'alice',
    name: 'Alice Martin',
    bio: 'Baker in Lyon. Sourdough every morning.',
    createdAt: NOW - 400 * DAY_MS,
    followersCount: 320,
    followingCount: 280,
    defaultAvatar: false,
    ...overrides,
  };
}

function policy(overrides: object = {}, network: 'x' | 'bluesky' | 'mastodon' = 'mastodon'): EnginePolicy {
  return resolvePolicy(network, overrides);
}

describe('vetting a new follower', () => {
  it('follows back a real person, with no signals', () => {
    // Act
    const verdict = evaluateCandidate(person(), policy(), { now: NOW });

    // Assess
    expect(verdict).toEqual({ verdict: 'follow', signals: [], allowListed: false, backfill: false });
  });

  it('skips an empty profile, a very new account, an absurd ratio and a keyword, each with its reason', () => {
    // Prepare
    const cases: Array<[CandidateProfile, string]> = [
      [person({ bio: '  ', defaultAvatar: true }), 'spam_empty_profile'],
      [person({ createdAt: NOW - 1 * DAY_MS }), 'spam_new_account'],
      [person({ followingCount: 4_900, followersCount: 12 }), 'spam_ratio'],
      [person({ bio: 'Best CRYPTO signals, DM me' }), 'spam_keyword'],
    ];
    const strict = policy({ spam: { keywords: { words: ['crypto'] } } });

    // Act
    const reasons = cases.map(([profile]) => {
      const verdict = evaluateCandidate(profile, strict, { now: NOW });
      return verdict.verdict === 'skip' ? verdict.reason : verdict.verdict;
    });

    // Assess
    expect(reasons).toEqual(cases.map(([, reason]) => reason));
  });

  it('says why in the detail', () => {
    // Act
    const verdict = evaluateCandidate(person({ createdAt: NOW - 2 * DAY_MS }), policy(), { now: NOW });

    // Assess
    expect(verdict).toMatchObject({ verdict: 'skip', detail: 'account is 2 days old (minimum 3)' });
  });

  it('skips a default avatar only when that filter is set to skip; otherwise shows it as a signal', () => {
    // Prepare
    const profile = person({ defaultAvatar: true });

    // Act
    const flagged = evaluateCandidate(profile, policy(), { now: NOW });
    const skipped = evaluateCandidate(profile, policy({ spam: { defaultAvatar: 'skip' } }), { now: NOW });
    const ignored = evaluateCandidate(profile, policy({ spam: { defaultAvatar: 'off' } }), { now: NOW });

    // Assess
    expect(flagged).toMatchObject({ verdict: 'follow', signals: [{ kind: 'default_avatar' }] });
    expect(skipped).toMatchObject({ verdict: 'skip', reason: 'spam_default_avatar' });
    expect(ignored).toMatchObject({ verdict: 'follow', signals: [] });
  });

  it('lets the allow list override the spam filters but keeps the signals for the approval page', () => {
    // Prepare
    const spammy = person({ handle: 'NewBakery', bio: '', defaultAvatar: true, createdAt: NOW - DAY_MS });

    // Act
    const verdict = evaluateCandidate(spammy, policy({ allowList: ['@newbakery'] }), { now: NOW });

    // Assess
    expect(verdict).toMatchObject({ verdict: 'follow', allowListed: true });
    expect(verdict.signals.map((s) => s.kind)).toEqual(['new_account', 'empty_profile', 'default_avatar']);
  });

  it('always skips the deny list and anyone the owner unfollowed or blocked, even when allow-listed', () => {
    // Prepare
    const both = policy({ allowList: ['alice'], denyList: ['id:1790000000000000001'] });
    const allowed = policy({ allowList: ['alice'] });

    // Act
    const denied = evaluateCandidate(person(), both, { now: NOW });
    const unfollowed = evaluateCandidate(person(), allowed, { now: NOW, ownerUnfollowed: true });
    const blocked = evaluateCandidate(person(), allowed, { now: NOW, ownerBlocked: true });

    // Assess
    expect(denied).toMatchObject({ verdict: 'skip', reason: 'deny_list' });
    expect(unfollowed).toMatchObject({ verdict: 'skip', reason: 'owner_unfollowed' });
    expect(blocked).toMatchObject({ verdict: 'skip', reason: 'owner_blocked' });
  });

  it('skips a Mastodon bot and anyone asking for #nobot; the allow list lifts the bot flag but not #nobot', () => {
    // Prepare
    const bot = person({ bot: true });
    const nobot = person({ bio: 'Photographer. #NoBot please' });

    // Act
    const botVerdict = evaluateCandidate(bot, policy(), { now: NOW });
    const nobotVerdict = evaluateCandidate(nobot, policy({ allowList: ['alice'] }), { now: NOW });
    const allowedBot = evaluateCandidate(bot, policy({ allowList: ['alice'] }), { now: NOW });

    // Assess
    expect(botVerdict).toMatchObject({ verdict: 'skip', reason: 'bot_or_nobot' });
    expect(nobotVerdict).toMatchObject({ verdict: 'skip', reason: 'bot_or_nobot' });
    expect(allowedBot).toMatchObject({ verdict: 'follow', allowListed: true });
  });

  it('recognises #nobot as a hashtag, not inside other words', () => {
    // Act
    const verdicts = ['#nobot', 'hi #NoBots!', 'no bots #nobot.', '#nobotanist', 'x#nobot', 'nobot'].map(
      hasNoBotTag,
    );

    // Assess
    expect(verdicts).toEqual([true, true, true, false, false, false]);
  });

  it('skips followers from before the connection unless backfill is on, then marks them backfill', () => {
    // Act
    const none = evaluateCandidate(person(), policy(), { now: NOW, predatesConnection: true });
    const all = evaluateCandidate(person(), policy({ backfill: 'all' }), {
      now: NOW,
      predatesConnection: true,
    });

    // Assess
    expect(none).toMatchObject({ verdict: 'skip', reason: 'predates_connection' });
    expect(all).toMatchObject({ verdict: 'follow', backfill: true });
  });

  it('records mode off, already following and the account itself as skips', () => {
    // Act
    const off = evaluateCandidate(person(), policy({ mode: 'off' }), { now: NOW });
    const already = evaluateCandidate(person(), policy(), { now: NOW, ownerFollows: true });
    const self = evaluateCandidate(person(), policy(), { now: NOW, ownerId: '1790000000000000001' });

    // Assess
    expect([off, already, self].map((v) => (v.verdict === 'skip' ? v.reason : 'follow'))).toEqual([
      'mode_off',
      'already_following',
      'self',
    ]);
  });

  it('only flags the ratio of accounts following many when they follow enough to matter', () => {
    // Prepare
    const spam = policy().spam;

    // Act
    const small = spamSignals(person({ followingCount: 300, followersCount: 0 }), spam, NOW);
    const large = spamSignals(person({ followingCount: 3_000, followersCount: 10 }), spam, NOW);
    const unknown = spamSignals(person({ followingCount: undefined }), spam, NOW);

    // Assess
    expect(small).toEqual([]);
    expect(large).toEqual([
      { kind: 'ratio', detail: 'follows 3000 accounts, followed by 10 (ratio 300, maximum 50)' },
    ]);
    expect(unknown).toEqual([]);
  });

  it('matches keywords across case, width and zero-width tricks', () => {
    // Prepare
    const spam = policy({ spam: { keywords: { words: ['Crypto'] } } }).spam;

    // Act
    const fullwidth = spamSignals(person({ name: 'ＣＲＹＰＴＯ king' }), spam, NOW);
    const zeroWidth = spamSignals(person({ bio: 'cry\u200bpto' }), spam, NOW);

    // Assess
    expect(fullwidth.map((s) => s.kind)).toEqual(['keyword']);
    expect(zeroWidth.map((s) => s.kind)).toEqual(['keyword']);
  });
});
