import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveChromiumPath, SYSTEM_CHROMIUM_PATH } from '../../shared/runtime/chromium.ts';

describe('resolveChromiumPath', () => {
  it('refuses a CHROMIUM_PATH that names no file, naming the variable', async () => {
    // Prepare
    const env = { CHROMIUM_PATH: '/nowhere/chromium' };

    // Act
    const resolving = resolveChromiumPath(env);

    // Assess
    await expect(resolving).rejects.toMatchObject({
      name: 'ConfigError',
      details: { field: 'CHROMIUM_PATH' },
    });
  });

  it('takes CHROMIUM_PATH first when it names a file', async () => {
    // Prepare: any existing file stands in for a binary; resolving does not launch it
    const env = { CHROMIUM_PATH: process.execPath };

    // Act
    const path = await resolveChromiumPath(env);

    // Assess
    expect(path).toBe(process.execPath);
  });

  it('falls back to the Chromium inside the npm package when the system has none', async () => {
    // Prepare
    const env = {};

    // Act
    const path = await resolveChromiumPath(env);

    // Assess
    if (existsSync(SYSTEM_CHROMIUM_PATH)) expect(path).toBe(SYSTEM_CHROMIUM_PATH);
    else expect(existsSync(path) && path !== SYSTEM_CHROMIUM_PATH).toBe(true);
  });
});
