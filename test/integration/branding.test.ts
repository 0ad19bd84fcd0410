/**
 * Per-client branding set in the console reaches the client's digest (HTML, subject) and its
 * approval page, read from the store; the approval page's CSP still names the stylesheet it serves.
 */
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoConsoleStore } from '../../shared/adapters/dynamo/console-store.ts';
import { handleApprovalRequest } from '../../shared/app/approval/handle.ts';
import { batchLink } from '../../shared/app/approval/links.ts';
import { updateBranding } from '../../shared/app/console/branding.ts';
import { buildClientDigest } from '../../shared/app/digest/build.ts';
import { digestSubject } from '../../shared/domain/digest/index.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { BASE_URL, type DigestWorld, startDigestWorld, TEST_AGENCY, TEST_KEY } from '../support/digest.ts';

const CLIENT = 'sunrise';
const LOGO = 'https://cdn.sunrise.example/logo.png';
const actor = { kind: 'console', id: 'ops@agency.example' } as const;

describe('a client’s branding on its digest and approval page', () => {
  const db = useDynamoBackend(dynaliteBackend);
  let world: DigestWorld;
  let brands: DynamoConsoleStore;

  beforeEach(async () => {
    world = await startDigestWorld(db);
    brands = new DynamoConsoleStore({ client: db.client, tableName: world.tableName });
  });

  const set = (form: Record<string, string>) =>
    updateBranding(
      { registry: world.store, branding: brands, audit: brands, clock: world.clock },
      actor,
      CLIENT,
      form,
    );

  it('puts the display name in the subject and the accent and logo in the digest', async () => {
    // Prepare
    await set({ displayName: 'Sunrise Bakery', accent: '#7c3aed', logoUrl: LOGO });
    const client = (await world.store.getClient(CLIENT))!;
    // Act
    const built = await buildClientDigest(
      {
        store: world.store,
        samples: world.digests,
        branding: brands,
        clock: world.clock,
        agency: TEST_AGENCY,
        keys: TEST_KEY,
        baseUrl: BASE_URL,
      },
      client,
      { start: world.clock.now() - 7 * 86_400_000, end: world.clock.now() },
    );
    // Assess
    expect(digestSubject(built.model)).toContain('Sunrise Bakery');
    expect(built.html).toContain(`src="${LOGO}"`);
    expect(built.html).toContain('bgcolor="#7c3aed"');
    expect(built.text).toContain('Sunrise Bakery');
  });

  it('shows the display name, accent and logo on the approval page under a CSP that names its stylesheet', async () => {
    // Prepare
    await set({ displayName: 'Sunrise Bakery', accent: '#7c3aed', logoUrl: LOGO });
    const pending = world.sample.pending['x-sunrise'] ?? [];
    const link = new URL(
      batchLink(
        { keys: TEST_KEY, baseUrl: BASE_URL, now: world.clock.now() },
        { clientId: CLIENT, accountId: 'x-sunrise' },
        pending,
      )!,
    );
    // Act
    const response = await handleApprovalRequest(
      {
        store: world.store,
        uses: world.digests,
        clock: world.clock,
        keys: TEST_KEY,
        agencyName: 'Sunrise Social',
        baseUrl: BASE_URL,
        branding: brands,
      },
      { method: 'GET', path: link.pathname, query: link.search.slice(1) },
    );
    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toContain('Sunrise Bakery');
    expect(response.body).toContain(`src="${LOGO}"`);
    const style = /<style>([\s\S]*?)<\/style>/.exec(response.body)?.[1] ?? '';
    expect(style).toContain('--accent:#7c3aed');
    const hash = createHash('sha256').update(style, 'utf8').digest('base64');
    expect(response.headers['Content-Security-Policy']).toContain(`style-src 'sha256-${hash}'`);
  });

  it('refuses a javascript: or http logo and a colour that is not #rrggbb, naming the field, and keeps the old branding', async () => {
    // Prepare
    await set({ displayName: 'Sunrise Bakery', accent: '#7c3aed' });
    // Act
    const attempts = [
      set({ logoUrl: 'javascript:alert(1)' }),
      set({ logoUrl: 'http://cdn.sunrise.example/logo.png' }),
      set({ logoUrl: 'https://cdn.sunrise.example/a"onerror="x.png' }),
      set({ logoUrl: 'https://user:secret@cdn.sunrise.example/logo.png' }),
      set({ accent: 'red' }),
    ];
    // Assess
    for (const attempt of attempts) await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    expect(await brands.getBranding(CLIENT)).toEqual({ displayName: 'Sunrise Bakery', accent: '#7c3aed' });
  });
});
