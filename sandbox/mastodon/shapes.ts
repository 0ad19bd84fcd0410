/**
 * Mastodon's REST entities (Account, CredentialAccount, Relationship, Error) rendered from the
 * world's users, in Mastodon's snake_case JSON.
 */
import { hash32 } from '../rng.ts';
import type { World, WorldUser } from '../world.ts';

const REMOTE_DOMAINS = ['mastodon.social', 'fosstodon.org', 'hachyderm.io', 'mstdn.jp', 'chaos.social'];

export interface MastodonError {
  error: string;
  error_description?: string;
}

export function mastodonError(error: string): MastodonError {
  return { error };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The username: Mastodon allows letters, digits and underscores. */
export function mastodonUsername(user: WorldUser): string {
  return user.username.replace(/[^A-Za-z0-9_]/g, '_') || 'user';
}

/** Where the account lives: owners on this instance, others here or on a few well-known ones. */
export function homeDomain(user: WorldUser, localDomain: string): string {
  if (user.owner) return localDomain;
  const pick = (hash32(`home|${user.id}`) >>> 0) % (REMOTE_DOMAINS.length * 2);
  return REMOTE_DOMAINS[pick] ?? localDomain; // past the remote ones: this instance
}

/** The bio as Mastodon renders it: HTML paragraphs, hashtags as links. */
export function noteHtml(user: WorldUser, localDomain: string): string {
  const parts = user.description
    .split(/\n{2,}/)
    .filter((part) => part.trim() !== '')
    .map((part) => escapeHtml(part).replace(/\n/g, '<br />'));
  if (user.noBot) {
    const tag = `<a href="https://${localDomain}/tags/nobot" class="mention hashtag" rel="tag">#<span>nobot</span></a>`;
    if (parts.length === 0) parts.push(tag);
    else parts[parts.length - 1] += ` ${tag}`;
  }
  return parts.map((part) => `<p>${part}</p>`).join('');
}

function dayOf(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 10)}T00:00:00.000Z`;
}

export function renderAccount(world: World, user: WorldUser, accountId: string, localDomain: string) {
  const username = mastodonUsername(user);
  const domain = homeDomain(user, localDomain);
  const acct = domain === localDomain ? username : `${username}@${domain}`;
  const avatar = user.defaultAvatar
    ? `https://${localDomain}/avatars/original/missing.png`
    : `https://files.${domain}/accounts/avatars/${accountId}/original/${(hash32(user.id) >>> 0).toString(16)}.png`;
  const header = `https://${localDomain}/headers/original/missing.png`;
  if (user.suspended) {
    // Mastodon shows a suspended account with its profile emptied.
    return {
      id: accountId,
      username,
      acct,
      display_name: '',
      locked: false,
      bot: false,
      discoverable: false,
      indexable: false,
      group: false,
      created_at: dayOf(user.createdAt),
      note: '',
      url: `https://${domain}/@${username}`,
      uri: `https://${domain}/users/${username}`,
      avatar: `https://${localDomain}/avatars/original/missing.png`,
      avatar_static: `https://${localDomain}/avatars/original/missing.png`,
      header,
      header_static: header,
      followers_count: 0,
      following_count: 0,
      statuses_count: 0,
      last_status_at: null,
      hide_collections: true,
      noindex: true,
      suspended: true,
      emojis: [],
      roles: [],
      fields: [],
    };
  }
  return {
    id: accountId,
    username,
    acct,
    display_name: user.name,
    locked: user.protected,
    bot: user.bot,
    discoverable: true,
    indexable: true,
    group: false,
    created_at: dayOf(user.createdAt),
    note: noteHtml(user, localDomain),
    url: `https://${domain}/@${username}`,
    uri: `https://${domain}/users/${username}`,
    avatar,
    avatar_static: avatar,
    header,
    header_static: header,
    followers_count: user.followersCount,
    following_count: user.followingCount,
    statuses_count: user.postCount,
    last_status_at: user.postCount > 0 ? dayOf(world.now).slice(0, 10) : null,
    hide_collections: false,
    noindex: false,
    emojis: [],
    roles: [],
    fields: [],
  };
}

export function renderCredentialAccount(
  world: World,
  user: WorldUser,
  accountId: string,
  localDomain: string,
) {
  return {
    ...renderAccount(world, user, accountId, localDomain),
    source: {
      privacy: 'public',
      sensitive: false,
      language: 'en',
      note: user.description,
      fields: [],
      follow_requests_count: 0,
      hide_collections: false,
      discoverable: true,
      indexable: true,
    },
    role: { id: '-99', name: '', permissions: '0', color: '', highlighted: false },
  };
}

export function renderRelationship(world: World, ownerId: string, user: WorldUser, accountId: string) {
  return {
    id: accountId,
    following: world.isFollowing(ownerId, user.id),
    showing_reblogs: world.isFollowing(ownerId, user.id),
    notifying: false,
    languages: null,
    followed_by: world.isFollower(ownerId, user.id),
    blocking: false,
    blocked_by: false,
    muting: false,
    muting_notifications: false,
    requested: world.isPending(ownerId, user.id),
    requested_by: false,
    domain_blocking: false,
    endorsed: false,
    note: '',
  };
}
