import * as z from 'zod';

/**
 * Shapes of what comes back from the table, checked at the boundary. Objects are "loose": fields
 * this adapter does not know (added by later versions) pass through instead of being dropped, so a
 * read-modify-write never loses them.
 */

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const count = z.number().int().nonnegative();

export const clientRecordSchema = z.looseObject({
  clientId: z.string().min(1),
  name: z.string(),
  timeZone: z.string().min(1),
  digestEmails: z.array(z.string()),
  createdAt: finite,
  digestWeekday: z.number().int().min(1).max(7).optional(),
  digestHour: z.number().int().min(0).max(23).optional(),
  digestOptOut: z.boolean().optional(),
  digestOptOutAt: finite.optional(),
  locale: z.string().min(1).max(35).optional(),
  xApp: z
    .looseObject({ clientId: z.string().min(1), confidential: z.boolean(), ownedBy: z.string().optional() })
    .optional(),
});

export const observeSettingsSchema = z.looseObject({
  detectionDelayHours: finite,
  readBudgetUsdPerMonth: finite,
  readRequestsPerDay: finite,
  usdPerUserRead: finite,
  fullScanMinDays: finite,
  headScanKnownRun: finite,
});

export const accountRecordSchema = z.looseObject({
  clientId: z.string().min(1),
  accountId: z.string().min(1),
  network: z.enum(['x', 'bluesky', 'mastodon']),
  platformUserId: z.string().min(1),
  handle: z.string(),
  status: z.enum(['active', 'paused', 'not_connected', 'token_expired']),
  observe: observeSettingsSchema,
  policy: z.record(z.string(), z.unknown()).optional(),
  createdAt: finite,
  /** An origin: http(s)://host[:port], nothing after it. */
  instanceUrl: z
    .string()
    .max(300)
    .regex(/^https?:\/\/[^/?#@\s]+$/, 'must be an http(s) origin such as https://example.social')
    .optional(),
});

const graphKind = z.enum(['followers', 'following']);

/**
 * The state item's JSON is checked as an envelope only (an object with an `observe` section and its
 * `seq`): the sections belong to the use cases, which evolve them; they validate their own parts.
 */
export const accountStateSchema = z.looseObject({
  observe: z.looseObject({ seq: count }),
});

/**
 * The state item: its hot part deflated in `body` (state-codec.ts), `part` the sort key of the item
 * holding its cold part, if any. Items written before the split hold the whole state as JSON text
 * in `state`.
 */
export const stateItemSchema = z
  .object({
    state: z.string().optional(),
    body: z.instanceof(Uint8Array).optional(),
    part: z.string().startsWith('STATE#PART#').optional(),
    version: z.number().int().positive(),
  })
  .refine(
    (item) => (item.state === undefined) !== (item.body === undefined),
    'needs exactly one of state and body',
  );

/** An item holding the state's cold part (state-codec.ts), deflated in `body`. */
export const statePartItemSchema = z.object({ body: z.instanceof(Uint8Array) });

export const platformUserSchema = z.looseObject({
  id: z.string().min(1),
  handle: z.string(),
  name: z.string(),
  bio: z.string(),
  createdAt: finite.optional(),
  followersCount: finite.optional(),
  followingCount: finite.optional(),
  protected: z.boolean(),
  defaultAvatar: z.boolean().optional(),
  avatarUrl: z.string().optional(),
  bot: z.boolean().optional(),
});

export const changesetHeaderSchema = z.object({
  seq: count,
  at: finite,
  kind: graphKind,
  source: z.enum(['head', 'full', 'baseline', 'feed']),
  addedCount: count,
  removedCount: count,
  addedBytes: count,
  removedBytes: count,
  profiles: z.array(platformUserSchema),
  refollowed: z.array(z.string().min(1)).optional(),
});

const bytes = z.instanceof(Uint8Array);

export const dataItemSchema = z.object({ data: bytes });

/** A changeset's removal mark: its removed ids (absent when too many to keep beside it). */
export const removalMarkItemSchema = z.object({
  seq: z.number().int().min(1),
  at: finite,
  removed: bytes.optional(),
});

export const changesetPartItemSchema = z.object({
  data: bytes,
  part: count,
  parts: z.number().int().min(1),
  digest: z.string().min(1),
  at: finite,
});
