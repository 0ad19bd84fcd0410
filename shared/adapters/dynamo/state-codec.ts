import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { AccountState, ObserveState } from '../../domain/account-state.ts';

/**
 * How the account state is laid out in the table. DynamoDB bills a write by the whole item's size
 * (1 unit per KB), and the state item is rewritten several times a tick, so it is kept under 1 KB:
 *
 * - the hot part (lease, engine, the observe counters) is JSON, deflated;
 * - the cold part, the bulky fields that change far less often than the tick's commits (the head
 *   scan's 100-id anchor, the owner's daily counts), lives in its own item, written only when it
 *   changed.
 *
 * Both are deflated JSON: the ids are decimal strings, which deflate to under half.
 */
export const coldObserveFields = [
  'headAnchor',
  'ownerHistory',
] as const satisfies readonly (keyof ObserveState)[];

type ColdField = (typeof coldObserveFields)[number];
export type ColdState = Partial<Pick<ObserveState, ColdField>>;

export interface SplitState {
  hot: AccountState;
  cold: ColdState;
}

/** The state without its cold fields, and those fields apart. */
export function splitState(state: AccountState): SplitState {
  const observe: Record<string, unknown> = { ...state.observe };
  const cold: Record<string, unknown> = {};
  for (const field of coldObserveFields) {
    if (observe[field] !== undefined) cold[field] = observe[field];
    delete observe[field];
  }
  return { hot: { ...state, observe: observe as unknown as ObserveState }, cold: cold as ColdState };
}

/** The state with its cold fields put back. */
export function joinState(hot: AccountState, cold: ColdState): AccountState {
  return { ...hot, observe: { ...hot.observe, ...cold } };
}

export function encodeJson(value: unknown): Uint8Array {
  return deflateRawSync(JSON.stringify(value));
}

/** The JSON text of an encoded value (throws on bytes that do not inflate). */
export function decodeJsonText(bytes: Uint8Array): string {
  return inflateRawSync(bytes).toString('utf8');
}

/** Whether the cold part differs from another (both as JSON: the fields are plain data). */
export function sameCold(a: ColdState, b: ColdState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
