import * as z from 'zod';

/**
 * The messages between dispatchers and workers. The dispatcher writes them, the worker validates
 * them with these schemas (an SQS body is input from outside like any other).
 */
const id = z
  .string()
  .min(1)
  .max(256)
  .refine(
    (value) => ![...value].some((ch) => ch === '#' || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f),
    "must not contain '#' or control characters",
  );

export const accountWorkMessageSchema = z.strictObject({
  v: z.literal(1),
  clientId: id,
  accountId: id,
  /** The tick this message belongs to (ISO 8601, the schedule's time rounded down to the tick). */
  tickAt: z.iso.datetime(),
  /** `<clientId>/<accountId>/<tickAt>`: the same for every delivery of the same tick's work. */
  dedupeId: z.string().min(1).max(600),
});

export type AccountWorkMessage = z.infer<typeof accountWorkMessageSchema>;

export function accountWorkMessage(clientId: string, accountId: string, tickAt: number): AccountWorkMessage {
  const at = new Date(tickAt).toISOString();
  return { v: 1, clientId, accountId, tickAt: at, dedupeId: `${clientId}/${accountId}/${at}` };
}

/** What EventBridge Scheduler sends the dispatch functions (the stack sets this input). */
export const scheduledEventSchema = z.looseObject({
  scheduledTime: z.iso.datetime({ offset: true }).optional(),
});
