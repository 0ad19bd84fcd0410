/**
 * Contract: the sandbox's real HTTP answers validate against X's OpenAPI description (a copy of
 * ../shared/reference/x-api-v2-openapi.json kept in test/fixtures so a clean checkout has it, or
 * X_OPENAPI_SPEC): each answer against the schema the spec gives for that path, method, status
 * and content type.
 *
 * One documented gap: X answers 401, 429 and 503 with a generic RFC 7807 problem of type
 * `about:blank` (`{ title, detail, type, status }`), which the spec's Problem union does not list.
 * Those answers are validated against that generic shape instead, and a test pins that the spec
 * indeed rejects them, so the gap is visible if a later spec closes it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, type Harness, startHarness } from './helpers.ts';

const here = dirname(fileURLToPath(import.meta.url));
const specPath = process.env.X_OPENAPI_SPEC ?? resolve(here, '../fixtures/x-api-v2-openapi.json');

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

const spec = JSON.parse(readFileSync(specPath, 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

// ajv-formats is CommonJS: under ESM its plugin is the module itself, typed as its `default`.
const addFormats = addFormatsModule.default;
// strict: false lets OpenAPI keywords (example, discriminator, ...) through; ajv knows `nullable`.
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'x-api-v2', components: { schemas: spec.components.schemas } });

function schema(name: string): ValidateFunction {
  const validate = ajv.getSchema(`x-api-v2#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name} in the spec`);
  return validate;
}

const genericProblem = ajv.compile({
  type: 'object',
  required: ['title', 'detail', 'type', 'status'],
  additionalProperties: false,
  properties: {
    title: { type: 'string' },
    detail: { type: 'string' },
    type: { const: 'about:blank' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
  },
});

/** The schema name the spec gives for this operation's answer. */
function schemaNameFor(path: string, method: string, status: number, contentType: string): string {
  const operation = spec.paths[path]?.[method];
  if (!operation) throw new Error(`no ${method} ${path} in the spec`);
  const response = operation.responses[String(status)] ?? operation.responses.default;
  const media = contentType.split(';')[0]!.trim();
  const ref = response?.content?.[media]?.schema?.$ref;
  if (!ref) throw new Error(`no ${media} schema for ${status} on ${method} ${path}`);
  return ref.replace('#/components/schemas/', '');
}

function violations(validate: ValidateFunction, body: unknown): string[] {
  return validate(body)
    ? []
    : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
}

/** Validates an answer against the spec; returns the problems found (none when it conforms). */
function check(answer: Answer, path: string, method: string): string[] {
  const contentType = answer.headers.get('content-type') ?? '';
  if (answer.body?.type === 'about:blank') {
    expect(contentType).toBe('application/problem+json');
    return violations(genericProblem, answer.body);
  }
  return violations(schema(schemaNameFor(path, method, answer.status, contentType)), answer.body);
}

/** The spec does not require id, name and username, but X always sends them. */
function expectCoreUserFields(users: unknown[]): void {
  for (const user of users)
    expect(user).toMatchObject({
      id: expect.any(String),
      name: expect.any(String),
      username: expect.any(String),
    });
}

const ALL_FIELDS = 'user.fields=created_at,description,protected,profile_image_url,public_metrics,verified';

let h: Harness;
let other: string;
let locked: string;
let gone: string;
let banned: string;

beforeAll(async () => {
  h = await startHarness({
    owner: { initialFollowers: 120, spamShare: 0.3, protectedShare: 0.3 },
    server: { limits: { perWindow: { me: 2 } } },
  });
  other = h.world.addOwner({ handle: 'other', initialFollowers: 3, initialFollowing: 0 }).id;
  locked = h.world.createUser({ protected: true }).id;
  gone = h.world.createUser().id;
  banned = h.world.createUser().id;
  h.world.deleteUser(gone);
  h.world.suspendUser(banned);
});

afterAll(async () => {
  await h.close();
});

describe('X sandbox contract (OpenAPI)', () => {
  it('answers users/me, users and users/:id in the spec shapes', async () => {
    // Prepare
    const [a, b] = h.world.followerIds(h.owner.id);

    // Act
    const me = await h.get(`/2/users/me?${ALL_FIELDS}`);
    const one = await h.get(`/2/users/${a}?${ALL_FIELDS}`);
    const missing = await h.get(`/2/users/${gone}`);
    const many = await h.get(`/2/users?ids=${a},${b},${gone},${banned}&${ALL_FIELDS}`);

    // Assess
    expect(check(me, '/2/users/me', 'get')).toEqual([]);
    expect(check(one, '/2/users/{id}', 'get')).toEqual([]);
    expect(check(missing, '/2/users/{id}', 'get')).toEqual([]);
    expect(check(many, '/2/users', 'get')).toEqual([]);
    expect(many.body.errors).toHaveLength(2);
    expectCoreUserFields([me.body.data, one.body.data, ...many.body.data]);
  });

  it('answers followers and following pages in the spec shapes', async () => {
    // Prepare
    const path = `/2/users/${h.owner.id}`;

    // Act
    const first = await h.get(`${path}/followers?max_results=50&${ALL_FIELDS}`);
    const second = await h.get(
      `${path}/followers?max_results=50&pagination_token=${first.body.meta.next_token}`,
    );
    const following = await h.get(`${path}/following?max_results=1000&${ALL_FIELDS}`);
    const empty = await h.get(`/2/users/${locked}/followers`);

    // Assess
    expect(check(first, '/2/users/{id}/followers', 'get')).toEqual([]);
    expect(check(second, '/2/users/{id}/followers', 'get')).toEqual([]);
    expect(check(following, '/2/users/{id}/following', 'get')).toEqual([]);
    expect(check(empty, '/2/users/{id}/followers', 'get')).toEqual([]);
    expect(second.body.meta).toMatchObject({
      result_count: 50,
      next_token: expect.any(String),
      previous_token: expect.any(String),
    });
    expectCoreUserFields([...first.body.data, ...following.body.data]);
  });

  it('answers follow and unfollow in the spec shapes', async () => {
    // Prepare
    const target = h.world.createUser().id;

    // Act
    const followed = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: target });
    const pending = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: locked });
    const unfollowed = await h.del(`/2/users/${h.owner.id}/following/${target}`);

    // Assess
    expect(check(followed, '/2/users/{id}/following', 'post')).toEqual([]);
    expect(check(pending, '/2/users/{id}/following', 'post')).toEqual([]);
    expect(check(unfollowed, '/2/users/{source_user_id}/following/{target_user_id}', 'delete')).toEqual([]);
    expect(pending.body.data).toEqual({ following: false, pending_follow: true });
  });

  it('answers 400, 403 and 404 as problems of the spec', async () => {
    // Act
    const badMax = await h.get(`/2/users/${h.owner.id}/followers?max_results=1001`);
    const badToken = await h.get(`/2/users/${h.owner.id}/followers?pagination_token=ZZZZZZZZZZZZZZZZ`);
    const suspended = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: banned });
    const deleted = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: gone });
    const notMe = await h.post(`/2/users/${other}/following`, { target_user_id: locked });

    // Assess
    expect([badMax.status, badToken.status, suspended.status, deleted.status, notMe.status]).toEqual([
      400, 400, 403, 404, 403,
    ]);
    expect(check(badMax, '/2/users/{id}/followers', 'get')).toEqual([]);
    expect(check(badToken, '/2/users/{id}/followers', 'get')).toEqual([]);
    expect(check(suspended, '/2/users/{id}/following', 'post')).toEqual([]);
    expect(check(deleted, '/2/users/{id}/following', 'post')).toEqual([]);
    expect(check(notMe, '/2/users/{id}/following', 'post')).toEqual([]);
  });

  it('answers 401, 429, 500 and 503 in X shapes', async () => {
    // Prepare
    h.sandbox.faults.add({ endpoint: 'following', kind: '500' });
    h.sandbox.faults.add({ endpoint: 'following', kind: '503' });

    // Act
    const unauthorized = await h.get('/2/users/me', 'nobody');
    await h.get('/2/users/me');
    await h.get('/2/users/me');
    const limited = await h.get('/2/users/me');
    const internal = await h.get(`/2/users/${h.owner.id}/following`);
    const unavailable = await h.get(`/2/users/${h.owner.id}/following`);

    // Assess
    expect([unauthorized.status, limited.status, internal.status, unavailable.status]).toEqual([
      401, 429, 500, 503,
    ]);
    expect(check(unauthorized, '/2/users/me', 'get')).toEqual([]);
    expect(check(limited, '/2/users/me', 'get')).toEqual([]);
    expect(check(internal, '/2/users/{id}/following', 'get')).toEqual([]);
    expect(check(unavailable, '/2/users/{id}/following', 'get')).toEqual([]);
  });

  it('runs the validation for real: wrong bodies fail it', async () => {
    // Prepare
    const page = await h.get(`/2/users/${h.owner.id}/followers?max_results=2`);
    const badMax = await h.get(`/2/users/${h.owner.id}/followers?max_results=0`);
    const limited = {
      ...badMax,
      body: { title: 'Too Many Requests', detail: 'x', type: 'about:blank', status: 429 },
    };
    h.sandbox.faults.add({ endpoint: 'followers', kind: 'malformed' });
    const malformed = await h.get(`/2/users/${h.owner.id}/followers`);

    // Act
    const numericId = { ...page, body: { ...page.body, data: [{ ...page.body.data[0], id: 12 }] } };
    const wrongFollow = { ...page, body: { data: { following: 'yes', pending_follow: false } } };
    const oldProblemType = {
      ...badMax,
      body: { ...badMax.body, type: 'https://api.twitter.com/2/problems/invalid-request' },
    };

    // Assess
    expect(check(page, '/2/users/{id}/followers', 'get')).toEqual([]);
    expect(check(numericId, '/2/users/{id}/followers', 'get')).not.toEqual([]);
    expect(check(wrongFollow, '/2/users/{id}/following', 'post')).not.toEqual([]);
    expect(check(oldProblemType, '/2/users/{id}/followers', 'get')).not.toEqual([]);
    expect(check(malformed, '/2/users/{id}/followers', 'get')).not.toEqual([]);
    // The documented gap: the spec's Problem union has no about:blank problem.
    expect(violations(schema('Problem'), limited.body)).not.toEqual([]);
  });
});
