import * as z from 'zod';

/**
 * The parts of Bluesky's answers followback reads (lexicons app.bsky.actor.defs, app.bsky.graph.*,
 * com.atproto.repo.*), validated at the boundary. The client library checks the lexicon too; these
 * narrow the types and pin what the adapter relies on.
 */

const did = z.string().regex(/^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/, 'a DID');
const atUri = z.string().regex(/^at:\/\/[^/]+\/[^/]+\/[^/]+$/, 'an at:// record URI');

export const viewerSchema = z.object({
  following: atUri.optional(),
  followedBy: atUri.optional(),
  blockedBy: z.boolean().optional(),
  blocking: z.string().optional(),
  muted: z.boolean().optional(),
});

export const profileViewSchema = z.object({
  did,
  handle: z.string().min(1),
  displayName: z.string().optional(),
  description: z.string().optional(),
  avatar: z.string().optional(),
  createdAt: z.string().optional(),
  indexedAt: z.string().optional(),
  viewer: viewerSchema.optional(),
  labels: z.array(z.object({ val: z.string() }).passthrough()).optional(),
});
export type BlueskyProfile = z.infer<typeof profileViewSchema> & {
  followersCount?: number | undefined;
  followsCount?: number | undefined;
};

export const profileViewDetailedSchema = profileViewSchema.extend({
  followersCount: z.number().int().nonnegative().optional(),
  followsCount: z.number().int().nonnegative().optional(),
  postsCount: z.number().int().nonnegative().optional(),
});

export const followersSchema = z.object({
  subject: profileViewSchema,
  followers: z.array(profileViewSchema),
  cursor: z.string().min(1).optional(),
});

export const followsSchema = z.object({
  subject: profileViewSchema,
  follows: z.array(profileViewSchema),
  cursor: z.string().min(1).optional(),
});

export const profilesSchema = z.object({ profiles: z.array(profileViewDetailedSchema) });

export const createRecordSchema = z.object({ uri: atUri, cid: z.string().min(1) });

export const deleteRecordSchema = z.object({}).passthrough();

/** com.atproto.repo.listRecords of app.bsky.graph.follow: what the adapter reads of it. */
export const listRecordsSchema = z.object({
  cursor: z.string().optional(),
  records: z.array(
    z.object({
      uri: z.string(),
      value: z.looseObject({ subject: z.string() }),
    }),
  ),
});

/** app.bsky.notification.listNotifications: what the adapter reads of it. */
export const notificationsSchema = z.object({
  cursor: z.string().min(1).optional(),
  notifications: z.array(
    z.looseObject({
      uri: atUri,
      reason: z.string().min(1),
      author: profileViewSchema,
      indexedAt: z.string().min(1),
    }),
  ),
});
