import * as z from 'zod';

/** The parts of X API v2 answers that followback reads, validated at the boundary. */

const numericId = z.string().regex(/^\d{1,20}$/, 'an X id is a decimal string');

export const xUserSchema = z.object({
  id: numericId,
  username: z.string(),
  name: z.string(),
  description: z.string().optional(),
  created_at: z.string().optional(),
  protected: z.boolean().optional(),
  profile_image_url: z.string().optional(),
  public_metrics: z
    .object({
      followers_count: z.number().int().nonnegative().optional(),
      following_count: z.number().int().nonnegative().optional(),
    })
    .partial()
    .optional(),
});
export type XUser = z.infer<typeof xUserSchema>;

const problemSchema = z.object({ title: z.string().optional(), detail: z.string().optional() }).passthrough();

export const xUserListSchema = z.object({
  data: z.array(xUserSchema).optional(),
  meta: z
    .object({
      result_count: z.number().int().nonnegative().optional(),
      next_token: z.string().optional(),
      previous_token: z.string().optional(),
    })
    .optional(),
  errors: z.array(problemSchema).optional(),
});

export const xSingleUserSchema = z.object({ data: xUserSchema });

export const xFollowSchema = z.object({
  data: z.object({ following: z.boolean(), pending_follow: z.boolean().optional() }),
});

export const xUnfollowSchema = z.object({ data: z.object({ following: z.boolean() }) });
