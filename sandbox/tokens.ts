/**
 * Bearer tokens of a sandbox: which user a token acts for. Pluggable, so an OAuth flow added later
 * can issue tokens into the same registry (or bring its own resolver).
 */
import { hash32 } from './rng.ts';

/** What a sandbox server needs from a token store. */
export interface TokenResolver {
  /** The id of the user the token acts for, or undefined when the token is unknown or revoked. */
  resolve(token: string): string | undefined;
}

export class TokenRegistry implements TokenResolver {
  readonly #owners = new Map<string, string>();
  readonly #seed: number;
  #issued = 0;

  constructor(seed = 0) {
    this.#seed = seed;
  }

  /** A new token acting for `userId` (deterministic for a seed and issue order). */
  issue(userId: string): string {
    const n = ++this.#issued;
    const a = (hash32(`${this.#seed}|token|${userId}|${n}`) >>> 0).toString(36);
    const b = (hash32(`${n}|${userId}|${this.#seed}|token`) >>> 0).toString(36);
    const token = `sbx-${n.toString(36)}-${a}${b}`;
    this.#owners.set(token, userId);
    return token;
  }

  /** Registers a token chosen by the caller (e.g. issued by a future OAuth token endpoint). */
  register(token: string, userId: string): void {
    this.#owners.set(token, userId);
  }

  revoke(token: string): boolean {
    return this.#owners.delete(token);
  }

  resolve(token: string): string | undefined {
    return this.#owners.get(token);
  }
}
