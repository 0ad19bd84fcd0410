import * as z from '../../shared/config/zod.ts';

/**
 * The messages between dispatchers and workers. The dispatcher writes them, the worker validates
 * them with these schemas (an SQS body is input from outside like any other).
 */
const id = z.string().check(
  z.minLength(1),
  z.maxLength(256),
  z.refine(
    (value) => ![...value].some((ch) => ch === '#' || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f),
    "must not contain '#' or control characters",
  ),
);

export const accountWorkMessageSchema = z.strictObject({
  v: z.literal(1),
  clientId: id,
  accountId: id,
  /** The tick this message belongs to (ISO 8601, the schedule's time rounded down to the tick). */
  tickAt: z.iso.datetime(),
  /** `<clientId>/<accountId>/<tickAt>`: the same for every delivery of the same tick's work. */
  dedupeId: z.string().check(z.minLength(1), z.maxLength(600)),
});

export type AccountWorkMessage = z.infer<typeof accountWorkMessageSchema>;

export function accountWorkMessage(clientId: string, accountId: string, tickAt: number): AccountWorkMessage {
  const at = new Date(tickAt).toISOString();
  return { v: 1, clientId, accountId, tickAt: at, dedupeId: `${clientId}/${accountId}/${at}` };
}

/** What EventBridge Scheduler sends the dispatch functions (the stack sets this input). */
export const scheduledEventSchema = z.looseObject({
  scheduledTime: z.optional(z.iso.datetime({ offset: true })),
});

/** A digest period's key: the local date of its first day. */
const periodKey = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date yyyy-mm-dd'));

/**
 * One client's digest for one period, or the agency's roll-up. `at` is the dispatch time: the worker
 * sends the period whose send time is the latest at or before it, so a delivery delayed past the
 * next period's send time still sends the period it was queued for.
 */
export const digestWorkMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    v: z.literal(1),
    kind: z.literal('digest'),
    clientId: id,
    periodKey,
    at: z.iso.datetime(),
    /** `digest/<clientId>/<periodKey>`: the same for every dispatch of the same client's period. */
    dedupeId: z.string().check(z.minLength(1), z.maxLength(600)),
  }),
  z.strictObject({
    v: z.literal(1),
    kind: z.literal('rollup'),
    periodKey,
    at: z.iso.datetime(),
    /** `rollup/<periodKey>`. */
    dedupeId: z.string().check(z.minLength(1), z.maxLength(600)),
  }),
]);

export type DigestWorkMessage = z.infer<typeof digestWorkMessageSchema>;

export function digestWorkMessage(clientId: string, period: string, at: number): DigestWorkMessage {
  return {
    v: 1,
    kind: 'digest',
    clientId,
    periodKey: period,
    at: new Date(at).toISOString(),
    dedupeId: `digest/${clientId}/${period}`,
  };
}

export function rollupWorkMessage(period: string, at: number): DigestWorkMessage {
  return {
    v: 1,
    kind: 'rollup',
    periodKey: period,
    at: new Date(at).toISOString(),
    dedupeId: `rollup/${period}`,
  };
}
