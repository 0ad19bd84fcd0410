import * as z from '../../config/zod.ts';

/**
 * The parts of Bluesky's answers followback reads (lexicons app.bsky.actor.defs, app.bsky.graph.*,
 * com.atproto.repo.*), validated at the boundary. The client library checks the lexicon too; these
 * narrow the types and pin what the adapter relies on.
 */

const did = z.string().check(z.regex(/^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/, 'a DID'));
const atUri = z.string().check(z.regex(/^at:\/\/[^/]+\/[^/]+\/[^/]+$/, 'an at:// record URI'));

export const viewerSchema = z.object({
  following: z.optional(atUri),
  followedBy: z.optional(atUri),
  blockedBy: z.optional(z.boolean()),
  blocking: z.optional(z.string()),
  muted: z.optional(z.boolean()),
});

export const profileViewSchema = z.object({
  did,
  handle: z.string().check(z.minLength(1)),
  displayName: z.optional(z.string()),
  description: z.optional(z.string()),
  avatar: z.optional(z.string()),
  createdAt: z.optional(z.string()),
  indexedAt: z.optional(z.string()),
  viewer: z.optional(viewerSchema),
  labels: z.optional(z.array(z.looseObject({ val: z.string() }))),
});
export type BlueskyProfile = z.infer<typeof profileViewSchema> & {
  followersCount?: number | undefined;
  followsCount?: number | undefined;
};

export const profileViewDetailedSchema = z.extend(profileViewSchema, {
  followersCount: z.optional(z.number().check(z.int(), z.nonnegative())),
  followsCount: z.optional(z.number().check(z.int(), z.nonnegative())),
  postsCount: z.optional(z.number().check(z.int(), z.nonnegative())),
});

export const followersSchema = z.object({
  subject: profileViewSchema,
  followers: z.array(profileViewSchema),
  cursor: z.optional(z.string().check(z.minLength(1))),
});

export const followsSchema = z.object({
  subject: profileViewSchema,
  follows: z.array(profileViewSchema),
  cursor: z.optional(z.string().check(z.minLength(1))),
});

export const profilesSchema = z.object({ profiles: z.array(profileViewDetailedSchema) });

export const createRecordSchema = z.object({ uri: atUri, cid: z.string().check(z.minLength(1)) });

export const deleteRecordSchema = z.looseObject({});

/** com.atproto.repo.listRecords of app.bsky.graph.follow: what the adapter reads of it. */
export const listRecordsSchema = z.object({
  cursor: z.optional(z.string()),
  records: z.array(
    z.object({
      uri: z.string(),
      value: z.looseObject({ subject: z.string() }),
    }),
  ),
});

/** app.bsky.notification.listNotifications: what the adapter reads of it. */
export const notificationsSchema = z.object({
  cursor: z.optional(z.string().check(z.minLength(1))),
  notifications: z.array(
    z.looseObject({
      uri: atUri,
      reason: z.string().check(z.minLength(1)),
      author: profileViewSchema,
      indexedAt: z.string().check(z.minLength(1)),
    }),
  ),
});
