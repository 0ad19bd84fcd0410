/**
 * The digest's unsubscribe: a flag on the client record (`digestOptOut`), set with one conditional
 * update that touches nothing else. Follow-backs go on; only the email stops. Setting it twice is
 * the same as once (RFC 8058 one-click posts may be repeated by mail clients).
 */
import type { Clock } from '../../ports/clock.ts';
import type { DigestOptOutStore } from '../../ports/digest-store.ts';
import type { Logger } from '../../ports/logger.ts';

export interface UnsubscribeDeps {
  optOut: DigestOptOutStore;
  clock: Clock;
  logger?: Logger | undefined;
}

/** Stops the client's digest. False when the client does not exist (nothing written). */
export async function unsubscribeClient(deps: UnsubscribeDeps, clientId: string): Promise<boolean> {
  const done = await deps.optOut.setDigestOptOut(clientId, true, deps.clock.now());
  deps.logger?.info(done ? 'digest unsubscribed' : 'digest unsubscribe for an unknown client', { clientId });
  return done;
}

/** Starts the client's digest again (an operator's command). False when the client does not exist. */
export async function resubscribeClient(deps: UnsubscribeDeps, clientId: string): Promise<boolean> {
  return deps.optOut.setDigestOptOut(clientId, false, deps.clock.now());
}
