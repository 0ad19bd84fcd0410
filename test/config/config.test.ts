import { describe, expect, it } from 'vitest';
import { loadRuntimeEnv } from '../../shared/config/env.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import { ConfigError } from '../../shared/domain/errors.ts';

describe('configuration', () => {
  it('uses X itself when X_API_BASE_URL is unset', () => {
    // Act
    const env = loadRuntimeEnv({});

    // Assess
    expect(env.X_API_BASE_URL).toBe('https://api.x.com');
  });

  it('names X_API_BASE_URL when it is not an http(s) URL', () => {
    // Act / Assess
    expect(() => loadRuntimeEnv({ X_API_BASE_URL: 'ftp://example.com' })).toThrow(ConfigError);
    expect(() => loadRuntimeEnv({ X_API_BASE_URL: 'ftp://example.com' })).toThrow(/X_API_BASE_URL/);
  });

  it('names the observe setting that is out of range', () => {
    // Act / Assess
    expect(() => resolveObserveSettings('x', { detectionDelayHours: -1 })).toThrow(/detectionDelayHours/);
    expect(() => resolveObserveSettings('x', { headScanKnownRun: 1.5 })).toThrow(/headScanKnownRun/);
  });

  it('bills reads on X and not on the open networks by default', () => {
    // Act
    const x = resolveObserveSettings('x');
    const bluesky = resolveObserveSettings('bluesky');

    // Assess
    expect(x.usdPerUserRead).toBe(0.01);
    expect(bluesky.usdPerUserRead).toBe(0);
  });

  it("words a bad value in zod's English, not a bare 'Invalid input' (zod/mini loads no locale itself)", () => {
    // Act / Assess
    expect(() => loadRuntimeEnv({ TABLE_NAME: 'ab' })).toThrow(
      'invalid environment: TABLE_NAME: Too small: expected string to have >=3 characters',
    );
  });
});
