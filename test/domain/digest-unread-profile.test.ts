/**
 * Someone whose profile was never read (they left before a scan read them) is not shown as a raw
 * id ("User 1005…", "User did:plc:… ()"): the digest says the profile was not read and links it by
 * id where the network can, which costs the account's read budget nothing.
 */
import { describe, expect, it } from 'vitest';
import { unknownUser } from '../../shared/app/digest/users.ts';
import { profileUrlOf } from '../../shared/domain/digest/format.ts';
import { compactUserLine, userLine } from '../../shared/presentation/digest/render-html.ts';
import { userTextLine } from '../../shared/presentation/digest/render-text.ts';

const X_ID = '1441234567890123456789';
const DID = 'did:plc:abcdefghijklmnopqrstuvwx';

describe('a follower whose profile was never read', () => {
  it('reads as "Profile not read yet" with a link by id, never as a made-up name or "()"', () => {
    // Act
    const onX = userTextLine(unknownUser(X_ID), 'en-GB', 'x');
    const onBluesky = userTextLine(unknownUser(DID), 'en-GB', 'bluesky');
    const onMastodon = userTextLine(unknownUser('109'), 'en-GB', 'mastodon');
    const html = userLine(unknownUser(X_ID), 'x').toString();
    const compact = compactUserLine(unknownUser(DID), 'bluesky').toString();

    // Assess
    expect(onX).toBe(`Profile not read yet https://x.com/i/user/${X_ID}`);
    expect(onBluesky).toBe(`Profile not read yet https://bsky.app/profile/${DID}`);
    expect(onMastodon).toBe('Profile not read yet');
    for (const line of [onX, onBluesky, onMastodon]) expect(line).not.toMatch(/User |\(\)/);
    expect(html).toContain(`<a href="https://x.com/i/user/${X_ID}"`);
    expect(html).toContain('<strong>Profile not read yet</strong>');
    expect(compact).toContain(`<a href="https://bsky.app/profile/${DID}"`);
  });

  it('links by id only what has the shape of an id of that network', () => {
    // Act
    const crafted = [
      profileUrlOf('x', { id: '12/../../evil', handle: '' }),
      profileUrlOf('bluesky', { id: 'did:plc:"><script>', handle: '' }),
      profileUrlOf('x', { id: '12', handle: 'not a handle' }),
    ];

    // Assess
    expect(crafted).toEqual([undefined, undefined, undefined]);
    expect(profileUrlOf('x', { id: '12', handle: 'alice' })).toBe('https://x.com/alice');
  });
});

describe('counts in a user line', () => {
  it('agree with their noun: 1 follower, 2,410 followers', () => {
    // Prepare
    const user = { id: '7', handle: 'alice', name: 'Alice' };

    // Act
    const one = userTextLine({ ...user, followersCount: 1 }, 'en-GB', 'x');
    const many = userTextLine({ ...user, followersCount: 2_410 }, 'en-GB', 'x');
    const html = userLine({ ...user, followersCount: 1, followingCount: 1 }, 'x').toString();

    // Assess
    expect(one).toBe('Alice (@alice) · 1 follower');
    expect(many).toBe('Alice (@alice) · 2,410 followers');
    expect(html).toContain('1 follower · 1 following');
  });
});
