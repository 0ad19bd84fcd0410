import { AuthError } from '../../domain/errors.ts';
import type { BlueskyLogin, BlueskySession } from '../../ports/bluesky-session.ts';
import type { Clock } from '../../ports/clock.ts';
import type { PlatformUser } from '../../ports/platform.ts';
import { createBlueskyPlatform } from './bluesky-platform.ts';

/**
 * The Bluesky session port on the adapter: createSession with the app password, then the owner's
 * profile (what `followback connect bluesky` and the invite page need).
 */
export function blueskyLogin(options: {
  clock: Clock;
  /** Per-request timeout of the login (default 10 s). */
  timeoutMs?: number | undefined;
}): BlueskyLogin {
  return (input) => login(input, options);
}

async function login(
  input: { service: string; identifier: string; password: string },
  options: { clock: Clock; timeoutMs?: number | undefined },
): Promise<{ session: BlueskySession; user: PlatformUser }> {
  let latest: BlueskySession | undefined;
  const platform = createBlueskyPlatform({
    service: input.service,
    identifier: input.identifier,
    password: input.password,
    clock: options.clock,
    timeoutMs: options.timeoutMs ?? 10_000,
    onSession: (session) => {
      latest = session;
    },
  });
  const user = await platform.me();
  const session = latest ?? platform.session;
  if (session === undefined) throw new AuthError('Bluesky gave no session for the app password');
  return { session, user };
}
