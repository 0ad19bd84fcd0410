import type { AccountRef } from '../domain/account.ts';
import type { AccountState } from '../domain/account-state.ts';
import type { AccountStateStore } from '../ports/store.ts';

/**
 * The account's state as one worker holds it: every write is conditional on the version it read,
 * so a worker that lost its lease (or raced another) gets a ConflictError instead of overwriting.
 */
export class StateCell {
  #state: AccountState;
  #version: number;

  constructor(
    private readonly store: AccountStateStore,
    readonly ref: AccountRef,
    state: AccountState,
    version: number,
    /** Fencing token of the lease this worker holds. */
    readonly fence: number,
  ) {
    this.#state = state;
    this.#version = version;
  }

  get state(): AccountState {
    return this.#state;
  }

  get version(): number {
    return this.#version;
  }

  async commit(next: AccountState): Promise<void> {
    this.#version = await this.store.putState(this.ref, next, this.#version);
    this.#state = next;
  }
}
