/**
 * Account ids of the Mastodon sandbox. Mastodon's own are decimal snowflakes (`world.mastodonIdOf`);
 * other servers that speak its API do otherwise (Akkoma: base62 "flake" ids, GoToSocial: ULIDs). The
 * `flake` style turns the snowflake into a base62 string and back, so the sandbox can play an
 * instance whose ids are not numbers.
 */

export type MastodonIdStyle = 'snowflake' | 'flake';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A snowflake as 12 base62 characters after an `A` (never a decimal string). */
export function toFlake(snowflake: string): string {
  let value = BigInt(snowflake);
  let out = '';
  for (let i = 0; i < 12; i++) {
    out = BASE62[Number(value % 62n)] + out;
    value /= 62n;
  }
  return `A${out}`;
}

export function fromFlake(flake: string): string | undefined {
  if (!/^A[0-9A-Za-z]{12}$/.test(flake)) return undefined;
  let value = 0n;
  for (const char of flake.slice(1)) value = value * 62n + BigInt(BASE62.indexOf(char));
  return value.toString();
}
