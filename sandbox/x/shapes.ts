/**
 * X API v2 answer shapes, per the OpenAPI description in shared/reference/x-api-v2-openapi.json
 * (components/schemas User, UserPublicMetrics, Problem and its variants) and X's observed answers.
 */
import type { WorldUser } from '../world.ts';

const PROBLEMS = 'https://api.x.com/2/problems';

/** `user.fields` values X accepts (the spec's UserFieldsParameter enum). */
export const USER_FIELDS = [
  'affiliation',
  'confirmed_email',
  'connection_status',
  'created_at',
  'description',
  'entities',
  'id',
  'is_identity_verified',
  'location',
  'most_recent_post_id',
  'name',
  'parody',
  'pinned_tweet_id',
  'profile_banner_url',
  'profile_image_url',
  'protected',
  'public_metrics',
  'receives_your_dm',
  'subscribes_to_you',
  'subscription',
  'subscription_type',
  'url',
  'username',
  'verified',
  'verified_followers_count',
  'verified_type',
  'withheld',
] as const;

/** `expansions` values for user endpoints (the spec's, plus X's older `pinned_tweet_id`). */
export const USER_EXPANSIONS = [
  'affiliation',
  'most_recent_post_id',
  'pinned_post_id',
  'pinned_tweet_id',
] as const;

export interface XUserPublicMetrics {
  followers_count: number;
  following_count: number;
  tweet_count: number;
  /** The spec's name for tweet_count; both are sent. */
  post_count: number;
  listed_count: number;
  like_count: number;
  media_count: number;
}

/** A user object as X returns it (only the fields followback's sandbox models). */
export interface XUserObject {
  id: string;
  name: string;
  username: string;
  created_at?: string;
  description?: string;
  protected?: boolean;
  profile_image_url?: string;
  public_metrics?: XUserPublicMetrics;
  verified?: boolean;
  verified_type?: string;
}

/** Renders a user with id, name and username, plus the requested fields the sandbox models. */
export function renderUser(user: WorldUser, fields: ReadonlySet<string>): XUserObject {
  const out: XUserObject = { id: user.id, name: user.name, username: user.username };
  if (fields.has('created_at')) out.created_at = new Date(user.createdAt).toISOString();
  if (fields.has('description')) out.description = user.description;
  if (fields.has('protected')) out.protected = user.protected;
  if (fields.has('profile_image_url')) out.profile_image_url = user.profileImageUrl;
  if (fields.has('public_metrics')) {
    out.public_metrics = {
      followers_count: user.followersCount,
      following_count: user.followingCount,
      tweet_count: user.postCount,
      post_count: user.postCount,
      listed_count: user.listedCount,
      like_count: user.postCount * 3,
      media_count: Math.floor(user.postCount / 10),
    };
  }
  if (fields.has('verified')) out.verified = false;
  if (fields.has('verified_type')) out.verified_type = 'none';
  return out;
}

/** X's generic HTTP problem (401, 429, 503, unknown routes): RFC 7807 with type about:blank. */
export interface GenericProblem {
  title: string;
  detail: string;
  type: 'about:blank';
  status: number;
}

export function genericProblem(status: number, title: string): GenericProblem {
  return { title, detail: title, type: 'about:blank', status };
}

export interface ParameterError {
  parameters: Record<string, string[]>;
  message: string;
}

/** 400: X's InvalidRequestProblem with the per-parameter messages in `errors`. */
export function invalidRequest(errors: ParameterError[]) {
  return {
    errors,
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: `${PROBLEMS}/invalid-request`,
  };
}

export function parameterError(parameter: string, value: string, message: string): ParameterError {
  return { parameters: { [parameter]: [value] }, message };
}

/** A user X cannot find (never existed or deleted): a ResourceNotFoundProblem. */
export function userNotFound(parameter: string, id: string) {
  return {
    value: id,
    detail: `Could not find user with ${parameter}: [${id}].`,
    title: 'Not Found Error',
    resource_type: 'user',
    parameter,
    resource_id: id,
    type: `${PROBLEMS}/resource-not-found`,
  };
}

/** A suspended user in a lookup: X reports it as a resource-not-found titled Forbidden. */
export function userSuspended(parameter: string, id: string) {
  return {
    value: id,
    detail: `User has been suspended: [${id}].`,
    title: 'Forbidden',
    resource_type: 'user',
    parameter,
    resource_id: id,
    type: `${PROBLEMS}/resource-not-found`,
  };
}

/** 403 on a write: a NotAuthorizedForResourceProblem. */
export function forbiddenResource(parameter: string, id: string, detail: string) {
  return {
    value: id,
    detail,
    title: 'Forbidden',
    resource_type: 'user',
    parameter,
    resource_id: id,
    type: `${PROBLEMS}/not-authorized-for-resource`,
    status: 403,
  };
}

/** 500: an InternalErrorProblem. */
export function internalError() {
  return {
    title: 'Internal Server Error',
    detail: 'Something went wrong. Try again later.',
    type: `${PROBLEMS}/internal-error`,
    status: 500,
  };
}
