import * as z from '../../config/zod.ts';

/**
 * Shapes of what comes back from the table, checked at the boundary. Objects are "loose": fields
 * this adapter does not know (added by later versions) pass through instead of being dropped, so a
 * read-modify-write never loses them.
 */

const finite = z.number().check(z.refine(Number.isFinite, 'must be a finite number'));
const count = z.number().check(z.int(), z.nonnegative());
const nonEmpty = () => z.string().check(z.minLength(1));

export const clientRecordSchema = z.looseObject({
  clientId: nonEmpty(),
  name: z.string(),
  timeZone: nonEmpty(),
  digestEmails: z.array(z.string()),
  createdAt: finite,
  digestWeekday: z.optional(z.number().check(z.int(), z.gte(1), z.lte(7))),
  digestHour: z.optional(z.number().check(z.int(), z.gte(0), z.lte(23))),
  digestOptOut: z.optional(z.boolean()),
  digestOptOutAt: z.optional(finite),
  locale: z.optional(z.string().check(z.minLength(1), z.maxLength(35))),
  xApp: z.optional(
    z.looseObject({ clientId: nonEmpty(), confidential: z.boolean(), ownedBy: z.optional(z.string()) }),
  ),
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
  clientId: nonEmpty(),
  accountId: nonEmpty(),
  network: z.enum(['x', 'bluesky', 'mastodon']),
  platformUserId: nonEmpty(),
  handle: z.string(),
  status: z.enum(['active', 'paused', 'not_connected', 'token_expired']),
  observe: observeSettingsSchema,
  policy: z.optional(z.record(z.string(), z.unknown())),
  createdAt: finite,
  /** An origin: http(s)://host[:port], nothing after it. */
  instanceUrl: z.optional(
    z
      .string()
      .check(
        z.maxLength(300),
        z.regex(/^https?:\/\/[^/?#@\s]+$/, 'must be an http(s) origin such as https://example.social'),
      ),
  ),
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
    state: z.optional(z.string()),
    body: z.optional(z.instanceof(Uint8Array)),
    part: z.optional(z.string().check(z.startsWith('STATE#PART#'))),
    version: z.number().check(z.int(), z.positive()),
  })
  .check(
    z.refine(
      (item) => (item.state === undefined) !== (item.body === undefined),
      'needs exactly one of state and body',
    ),
  );

/** An item holding the state's cold part (state-codec.ts), deflated in `body`. */
export const statePartItemSchema = z.object({ body: z.instanceof(Uint8Array) });

export const platformUserSchema = z.looseObject({
  id: nonEmpty(),
  handle: z.string(),
  name: z.string(),
  bio: z.string(),
  createdAt: z.optional(finite),
  followersCount: z.optional(finite),
  followingCount: z.optional(finite),
  protected: z.boolean(),
  defaultAvatar: z.optional(z.boolean()),
  avatarUrl: z.optional(z.string()),
  bot: z.optional(z.boolean()),
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
  refollowed: z.optional(z.array(nonEmpty())),
});

const bytes = z.instanceof(Uint8Array);

export const dataItemSchema = z.object({ data: bytes });

/** A changeset's removal mark: its removed ids (absent when too many to keep beside it). */
export const removalMarkItemSchema = z.object({
  seq: z.number().check(z.int(), z.gte(1)),
  at: finite,
  removed: z.optional(bytes),
});

export const changesetPartItemSchema = z.object({
  data: bytes,
  part: count,
  parts: z.number().check(z.int(), z.gte(1)),
  digest: nonEmpty(),
  at: finite,
});
