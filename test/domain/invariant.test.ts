import { describe, expect, it } from 'vitest';
import { FollowbackError, InvariantError } from '../../shared/domain/errors.ts';
import { defined, invariant } from '../../shared/domain/invariant.ts';

describe('invariant', () => {
  it('returns when the condition holds', () => {
    // Act
    const act = () => invariant(1 < 2, 'one is below two');

    // Assess
    expect(act).not.toThrow();
  });

  it('throws an InvariantError with the message when the condition fails', () => {
    // Act
    const act = () => invariant(false, 'the heap is empty after a push');

    // Assess
    expect(act).toThrow(InvariantError);
    expect(act).toThrow('invariant broken: the heap is empty after a push');
  });

  it('throws a FollowbackError named InvariantError, so error handling treats it like every other', () => {
    // Act
    let caught: unknown;
    try {
      invariant(0, 'a word past the end of the view');
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(FollowbackError);
    expect((caught as Error).name).toBe('InvariantError');
  });
});

describe('defined', () => {
  it('returns the value, falsy ones included', () => {
    // Act
    const values = [defined(0, 'count'), defined('', 'name'), defined(false, 'flag'), defined([7], 'list')];

    // Assess
    expect(values).toEqual([0, '', false, [7]]);
  });

  it('throws an InvariantError naming what is missing when the value is undefined', () => {
    // Prepare
    const queues = new Map<string, number[]>();

    // Act
    const act = () => defined(queues.get('x'), 'the queue of network x');

    // Assess
    expect(act).toThrow(InvariantError);
    expect(act).toThrow('invariant broken: the queue of network x is missing');
  });

  it('throws an InvariantError when the value is null', () => {
    // Act
    const act = () => defined(null, 'the head of the heap');

    // Assess
    expect(act).toThrow('invariant broken: the head of the heap is missing');
  });
});
