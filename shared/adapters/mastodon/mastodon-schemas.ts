import * as z from '../../config/zod.ts';

/**
 * The parts of Mastodon's entities followback reads, validated at the boundary. masto hands them
 * over with camelCase keys (it converts Mastodon's snake_case). Servers that speak Mastodon's API
 * without being Mastodon leave some fields out, so only what the adapter needs is required.
 */

/** A Mastodon account id: decimal on Mastodon, but not on every server that speaks its API. */
const accountId = z.string().check(z.regex(/^[\x21-\x7e]{1,2048}$/, 'an account id (printable ASCII)'));

export const mastodonAccountSchema = z.object({
  id: accountId,
  username: z.string().check(z.minLength(1)),
  acct: z.string().check(z.minLength(1)),
  displayName: z.optional(z.string()),
  note: z.optional(z.string()),
  locked: z.optional(z.boolean()),
  bot: z.optional(z.nullable(z.boolean())),
  createdAt: z.optional(z.string()),
  avatar: z.optional(z.string()),
  avatarStatic: z.optional(z.string()),
  followersCount: z.optional(z.number().check(z.int(), z.nonnegative())),
  followingCount: z.optional(z.number().check(z.int(), z.nonnegative())),
  statusesCount: z.optional(z.number().check(z.int(), z.nonnegative())),
  suspended: z.optional(z.boolean()),
});
export type MastodonAccount = z.infer<typeof mastodonAccountSchema>;

export const mastodonAccountListSchema = z.array(mastodonAccountSchema);

export const mastodonRelationshipSchema = z.object({
  id: accountId,
  following: z.boolean(),
  followedBy: z.boolean(),
  requested: z.optional(z.boolean()),
  blocking: z.optional(z.boolean()),
  blockedBy: z.optional(z.boolean()),
});

export const mastodonRelationshipListSchema = z.array(mastodonRelationshipSchema);

/** A notification, of the types followback asks for (`follow`, `follow_request`). */
export const mastodonNotificationSchema = z.object({
  id: z.string().check(z.regex(/^[\x21-\x7e]{1,2048}$/, 'a notification id (printable ASCII)')),
  type: z.string().check(z.minLength(1)),
  createdAt: z.string().check(z.minLength(1)),
  account: mastodonAccountSchema,
});

export const mastodonNotificationListSchema = z.array(mastodonNotificationSchema);
