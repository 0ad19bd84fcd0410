/**
 * Bluesky's answers in the lexicon shapes of app.bsky.actor.defs (profileView, profileViewDetailed,
 * viewerState) and XRPC errors (`{ error, message }`), from the world's users.
 */

import { defined } from '../../shared/domain/invariant.ts';
import type { World, WorldUser } from '../world.ts';
import { cidOf, derivedFollowKey, followUri, handleFor } from './ids.ts';

export interface XrpcError {
  error: string;
  message: string;
}

export function xrpcError(error: string, message: string): XrpcError {
  return { error, message };
}

export interface ProfileViewer {
  muted: boolean;
  blockedBy: boolean;
  following?: string;
  followedBy?: string;
}

export interface ProfileView {
  did: string;
  handle: string;
  displayName?: string;
  description?: string;
  avatar?: string;
  /** Absent, with createdAt, for an account without a profile record. */
  indexedAt?: string;
  createdAt?: string;
  viewer?: ProfileViewer;
  labels: never[];
}

export interface ProfileViewDetailed extends ProfileView {
  followersCount: number;
  followsCount: number;
  postsCount: number;
}

/** Who is asking: the owner's world id and DID (authenticated reads get viewer state). */
export interface Viewer {
  userId: string;
  did: string;
}

/** Looks up the follow record uris the sandbox minted (creates through the API). */
export type MintedFollow = (ownerUserId: string, subjectDid: string) => string | undefined;

export function blueskyHandle(user: WorldUser): string {
  return handleFor(user.username);
}

function bio(user: WorldUser): string {
  const text = user.description;
  if (!user.noBot) return text;
  return text === '' ? '#nobot' : `${text} #nobot`;
}

function viewerState(world: World, viewer: Viewer, user: WorldUser, did: string, minted: MintedFollow) {
  const state: ProfileViewer = { muted: false, blockedBy: false };
  if (user.id === viewer.userId || !world.isOwner(viewer.userId)) return state;
  if (world.isFollowing(viewer.userId, user.id)) {
    const since = world.followingSince(viewer.userId, user.id) ?? 0;
    state.following = minted(viewer.userId, did) ?? followUri(viewer.did, derivedFollowKey(since, did));
  }
  if (world.isFollower(viewer.userId, user.id)) {
    const since = world.followedAt(viewer.userId, user.id) ?? 0;
    state.followedBy = followUri(did, derivedFollowKey(since, viewer.did));
  }
  return state;
}

export function profileView(
  world: World,
  user: WorldUser,
  viewer: Viewer | undefined,
  minted: MintedFollow,
): ProfileView {
  const did = defined(world.didOf(user.id), `the did of world user ${user.id}`);
  const created = new Date(user.createdAt).toISOString();
  const view: ProfileView = { did, handle: blueskyHandle(user), labels: [] };
  // An account that never wrote a profile record has no name, bio or creation date (as the AppView shows it).
  if (!user.noProfile) {
    view.indexedAt = created;
    view.createdAt = created;
    if (user.name !== '') view.displayName = user.name.slice(0, 64);
    const description = bio(user);
    if (description !== '') view.description = description;
  }
  if (!user.defaultAvatar) view.avatar = `https://cdn.bsky.app/img/avatar/plain/${did}/${cidOf(did)}@jpeg`;
  if (viewer) view.viewer = viewerState(world, viewer, user, did, minted);
  return view;
}

export function profileViewDetailed(
  world: World,
  user: WorldUser,
  viewer: Viewer | undefined,
  minted: MintedFollow,
): ProfileViewDetailed {
  return {
    ...profileView(world, user, viewer, minted),
    followersCount: user.followersCount,
    followsCount: user.followingCount,
    postsCount: user.postCount,
  };
}
