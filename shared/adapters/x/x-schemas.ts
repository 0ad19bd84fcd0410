import * as z from '../../config/zod.ts';

/** The parts of X API v2 answers that followback reads, validated at the boundary. */

const numericId = z.string().check(z.regex(/^\d{1,20}$/, 'an X id is a decimal string'));

export const xUserSchema = z.object({
  id: numericId,
  username: z.string(),
  name: z.string(),
  description: z.optional(z.string()),
  created_at: z.optional(z.string()),
  protected: z.optional(z.boolean()),
  profile_image_url: z.optional(z.string()),
  public_metrics: z.optional(
    z.partial(
      z.object({
        followers_count: z.optional(z.number().check(z.int(), z.nonnegative())),
        following_count: z.optional(z.number().check(z.int(), z.nonnegative())),
      }),
    ),
  ),
});
export type XUser = z.infer<typeof xUserSchema>;

const problemSchema = z.looseObject({ title: z.optional(z.string()), detail: z.optional(z.string()) });

export const xUserListSchema = z.object({
  data: z.optional(z.array(xUserSchema)),
  meta: z.optional(
    z.object({
      result_count: z.optional(z.number().check(z.int(), z.nonnegative())),
      next_token: z.optional(z.string()),
      previous_token: z.optional(z.string()),
    }),
  ),
  errors: z.optional(z.array(problemSchema)),
});

export const xSingleUserSchema = z.object({ data: xUserSchema });

export const xFollowSchema = z.object({
  data: z.object({ following: z.boolean(), pending_follow: z.optional(z.boolean()) }),
});

export const xUnfollowSchema = z.object({ data: z.object({ following: z.boolean() }) });
