/**
 * The digest speaks English only, so only English locales are accepted (clients.yaml and the CLI
 * refuse others: test/integration/tenants-apply.test.ts, test/cli/operator-output.test.ts); a
 * record stored before that rule renders in en-GB rather than German dates among English words.
 */
import { describe, expect, it } from 'vitest';
import { digestLocale, formatDay, isDigestLocale } from '../../shared/domain/digest/format.ts';

describe('the digest locale', () => {
  it('keeps an English locale, and renders any other in en-GB', () => {
    // Prepare
    const at = Date.UTC(2026, 2, 3, 12);

    // Act
    const kept = ['en', 'en-GB', 'en-US', 'en-IE'].map(digestLocale);
    const fallback = ['de-DE', 'fr-FR', 'not a locale', undefined].map(digestLocale);

    // Assess
    expect(kept).toEqual(['en', 'en-GB', 'en-US', 'en-IE']);
    expect(fallback).toEqual(['en-GB', 'en-GB', 'en-GB', 'en-GB']);
    expect(formatDay(at, 'Europe/Berlin', digestLocale('de-DE'))).toBe('Tue 3 Mar');
    expect(isDigestLocale('de-DE')).toBe(false);
  });
});
