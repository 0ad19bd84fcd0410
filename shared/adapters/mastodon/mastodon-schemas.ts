import * as z from 'zod';

/**
 * The parts of Mastodon's entities followback reads, validated at the boundary. masto hands them
 * over with camelCase keys (it converts Mastodon's snake_case). Servers that speak Mastodon's API
 * without being Mastodon leave some fields out, so only what the adapter needs is required.
 */

/** A Mastodon account id: decimal on Mastodon, but not on every server that speaks its API. */
const accountId = z.string().regex(/^[\x21-\x7e]{1,2048}$/, 'an account id (printable ASCII)');

export const mastodonAccountSchema = z.object({
  id: accountId,
  username: z.string().min(1),
  acct: z.string().min(1),
  displayName: z.string().optional(),
  note: z.string().optional(),
  locked: z.boolean().optional(),
  bot: z.boolean().nullable().optional(),
  createdAt: z.string().optional(),
  avatar: z.string().optional(),
  avatarStatic: z.string().optional(),
  followersCount: z.number().int().nonnegative().optional(),
  followingCount: z.number().int().nonnegative().optional(),
  statusesCount: z.number().int().nonnegative().optional(),
  suspended: z.boolean().optional(),
});
export type MastodonAccount = z.infer<typeof mastodonAccountSchema>;

export const mastodonAccountListSchema = z.array(mastodonAccountSchema);

export const mastodonRelationshipSchema = z.object({
  id: accountId,
  following: z.boolean(),
  followedBy: z.boolean(),
  requested: z.boolean().optional(),
  blocking: z.boolean().optional(),
  blockedBy: z.boolean().optional(),
});

export const mastodonRelationshipListSchema = z.array(mastodonRelationshipSchema);

/** A notification, of the types followback asks for (`follow`, `follow_request`). */
export const mastodonNotificationSchema = z.object({
  id: z.string().regex(/^[\x21-\x7e]{1,2048}$/, 'a notification id (printable ASCII)'),
  type: z.string().min(1),
  createdAt: z.string().min(1),
  account: mastodonAccountSchema,
});

export const mastodonNotificationListSchema = z.array(mastodonNotificationSchema);
