import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ApprovalTokenPayload,
  generateApprovalKey,
  type SignApprovalTokenInput,
  signApprovalToken,
  tokenCovers,
  verifyApprovalToken,
} from '../../shared/domain/approval/index.ts';
import { ConfigError, ValidationError } from '../../shared/domain/errors.ts';

const KEY = `${'k'.repeat(32)}-current-approval-signing-key`;
const OLD_KEY = `${'o'.repeat(32)}-previous-approval-signing-key`;
const NOW = Date.UTC(2026, 2, 9, 0, 0);
const HOUR = 3_600_000;

function candidate(overrides: Partial<SignApprovalTokenInput> = {}): SignApprovalTokenInput {
  return {
    clientId: 'client-acme',
    accountId: 'acc-x',
    scope: 'candidate',
    targetIds: ['1600000000000000001'],
    issuedAt: NOW,
    expiresAt: NOW + 24 * HOUR,
    ...overrides,
  };
}

/** Replaces the character at `index` with a different base64url character. */
function flip(token: string, index: number): string {
  const c = token[index]!;
  const replacement = c === 'A' ? 'B' : 'A';
  return token.slice(0, index) + replacement + token.slice(index + 1);
}

describe('approval token', () => {
  it('round-trips: a fresh token verifies and gives back its payload', () => {
    // Prepare
    const { token, payload } = signApprovalToken(candidate(), KEY);
    // Act
    const result = verifyApprovalToken(token, KEY, NOW + HOUR, {
      clientId: 'client-acme',
      accountId: 'acc-x',
    });
    // Assess
    expect(result).toEqual({ ok: true, status: 'ok', payload });
    expect(payload.tokenId.length).toBeGreaterThanOrEqual(16);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(tokenCovers(payload, '1600000000000000001')).toBe(true);
    expect(tokenCovers(payload, '1600000000000000002')).toBe(false);
  });

  it('gives every token its own tokenId, for single use', () => {
    // Act
    const ids = new Set(
      Array.from({ length: 50 }, () => signApprovalToken(candidate(), KEY).payload.tokenId),
    );
    // Assess
    expect(ids.size).toBe(50);
  });

  it('refuses an expired token, from the expiry instant on', () => {
    // Prepare
    const { token, payload } = signApprovalToken(candidate(), KEY);
    // Act / Assess
    expect(verifyApprovalToken(token, KEY, payload.expiresAt - 1).status).toBe('ok');
    expect(verifyApprovalToken(token, KEY, payload.expiresAt)).toEqual({ ok: false, status: 'expired' });
  });

  it('refuses a token with any single character of payload or signature changed', () => {
    // Prepare
    const { token } = signApprovalToken(candidate(), KEY);
    // Act / Assess
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      const result = verifyApprovalToken(flip(token, i), KEY, NOW);
      expect(result.ok, `position ${i}`).toBe(false);
      expect(result.status, `position ${i}`).toBe('tampered');
    }
  });

  it('refuses a payload re-signed with another key, or re-encoded to claim another client', () => {
    // Prepare
    const { token } = signApprovalToken(candidate(), KEY);
    const [body, signature] = token.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as ApprovalTokenPayload;
    const forgedBody = Buffer.from(JSON.stringify({ ...payload, clientId: 'client-other' })).toString(
      'base64url',
    );
    const foreign = signApprovalToken(candidate(), 'f'.repeat(40)).token;
    // Act / Assess
    expect(verifyApprovalToken(`${forgedBody}.${signature}`, KEY, NOW).status).toBe('tampered');
    expect(verifyApprovalToken(foreign, KEY, NOW).status).toBe('tampered');
  });

  it("refuses another tenant's or another account's token", () => {
    // Prepare
    const { token } = signApprovalToken(candidate(), KEY);
    // Act / Assess
    expect(verifyApprovalToken(token, KEY, NOW, { clientId: 'client-other' })).toEqual({
      ok: false,
      status: 'wrong_tenant',
    });
    expect(
      verifyApprovalToken(token, KEY, NOW, { clientId: 'client-acme', accountId: 'acc-bsky' }).status,
    ).toBe('wrong_tenant');
  });

  it('refuses a token of another scope where the endpoint expects one', () => {
    // Prepare
    const { token } = signApprovalToken(
      { clientId: 'client-acme', scope: 'unsubscribe', issuedAt: NOW, expiresAt: NOW + HOUR },
      KEY,
    );
    // Act / Assess
    expect(verifyApprovalToken(token, KEY, NOW, { scope: ['candidate', 'batch'] }).status).toBe(
      'wrong_scope',
    );
    expect(verifyApprovalToken(token, KEY, NOW, { scope: 'unsubscribe' }).status).toBe('ok');
  });

  it('calls malformed strings malformed, and never throws on any input', () => {
    // Prepare
    const { token } = signApprovalToken(candidate(), KEY);
    const malformed: unknown[] = [
      '',
      '.',
      'abc',
      'abc.',
      '.abc',
      'a.b.c',
      `${token}.x`,
      token.replace('.', '.!'),
      'a'.repeat(5000),
      'é.é',
      null,
      undefined,
      42,
      { token },
    ];
    // Act / Assess
    for (const bad of malformed)
      expect(verifyApprovalToken(bad, KEY, NOW).status, String(bad)).toBe('malformed');
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const result = verifyApprovalToken(s, KEY, NOW);
        expect(result.ok).toBe(false);
      }),
    );
  });

  it('verifies with any key of a rotated key list and signs with the first', () => {
    // Prepare
    const old = signApprovalToken(candidate(), OLD_KEY).token;
    const fresh = signApprovalToken(candidate(), [KEY, OLD_KEY]).token;
    // Act / Assess
    expect(verifyApprovalToken(old, [KEY, OLD_KEY], NOW).status).toBe('ok');
    expect(verifyApprovalToken(fresh, KEY, NOW).status).toBe('ok');
    expect(verifyApprovalToken(fresh, OLD_KEY, NOW).status).toBe('tampered');
    expect(verifyApprovalToken(old, [KEY], NOW).status).toBe('tampered');
  });

  it('carries a batch of targets or a batch id', () => {
    // Act
    const listed = signApprovalToken(
      candidate({ scope: 'batch', targetIds: ['1', '2', '2', '3'] }),
      KEY,
    ).payload;
    const stored = signApprovalToken(
      candidate({ scope: 'batch', targetIds: undefined, batchId: 'batch-7' }),
      KEY,
    ).payload;
    // Assess
    expect(listed.targetIds).toEqual(['1', '2', '3']);
    expect(stored.batchId).toBe('batch-7');
    expect(stored.targetIds).toBeUndefined();
  });

  it('refuses to sign nonsense, and to use a short key', () => {
    expect(() => signApprovalToken(candidate({ targetIds: ['1', '2'] }), KEY)).toThrow(ValidationError);
    expect(() => signApprovalToken(candidate({ accountId: undefined }), KEY)).toThrow(/accountId/);
    expect(() => signApprovalToken(candidate({ expiresAt: NOW }), KEY)).toThrow(/expiresAt/);
    expect(() => signApprovalToken(candidate({ scope: 'batch', targetIds: [] }), KEY)).toThrow(/batchId/);
    expect(() => signApprovalToken(candidate(), 'short')).toThrow(ConfigError);
    expect(() => verifyApprovalToken('x.y', [], NOW)).toThrow(ConfigError);
    expect(generateApprovalKey()).toHaveLength(43);
  });
});
