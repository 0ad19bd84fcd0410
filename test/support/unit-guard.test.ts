import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';

describe('the unit project', () => {
  it('refuses a test that listens on a socket', () => {
    // Act
    const listen = () => createServer().listen(0, '127.0.0.1');

    // Assess
    expect(listen).toThrow(/a unit test may not listen on a socket/);
  });

  it('refuses a test that opens a connection, fetch included', async () => {
    // Act
    const answer = fetch('http://127.0.0.1:8999/');

    // Assess
    await expect(answer).rejects.toMatchObject({ cause: { name: 'UnitBoundaryError' } });
  });

  it('refuses a test that starts a process', () => {
    // Act
    const run = () => execFileSync('true');

    // Assess
    expect(run).toThrow(/a unit test may not start a process/);
  });
});
