/** The sandbox through twitter-api-v2, the client the X adapter is built on. */
import { Agent } from 'node:http';
import { ApiPartialResponseError, ApiResponseError, TwitterApi } from 'twitter-api-v2';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, START, startHarness } from './helpers.ts';

let harness: Harness | undefined;
const agent = new Agent();

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A twitter-api-v2 client whose requests go to the sandbox instead of api.x.com. */
function client(h: Harness): TwitterApi {
  const base = new URL(h.sandbox.baseUrl);
  return new TwitterApi(h.token, {
    compression: 'identity',
    plugins: [
      {
        onBeforeRequest({ computedParams, requestOptions }) {
          computedParams.url.protocol = base.protocol;
          computedParams.url.host = base.host;
          requestOptions.agent = agent;
        },
      },
    ],
  });
}

describe('X sandbox through twitter-api-v2', () => {
  it('pages followers and reads the rate-limit headers', async () => {
    // Prepare
    harness = await startHarness();
    const api = client(harness);

    // Act
    const first = await api.v2.followers(harness.owner.id, {
      max_results: 100,
      'user.fields': ['created_at'],
    });
    const second = await api.v2.followers(harness.owner.id, {
      max_results: 100,
      ...(first.meta.next_token === undefined ? {} : { pagination_token: first.meta.next_token }),
    });

    // Assess
    expect(first.data).toHaveLength(100);
    expect(second.data[0]!.id).toBe(harness.world.followerIds(harness.owner.id)[100]);
    expect(first.meta.result_count).toBe(100);
  });

  it('follows and reports the 24-hour follow cap in rateLimit.userDay', async () => {
    // Prepare
    harness = await startHarness();
    const api = client(harness);
    const target = harness.world.createUser({ protected: true });

    // Act
    const response = await api.v2.post(
      'users/:id/following',
      { target_user_id: target.id },
      { params: { id: harness.owner.id }, fullResponse: true },
    );

    // Assess
    expect(response.data).toEqual({ data: { following: false, pending_follow: true } });
    expect(response.rateLimit).toMatchObject({
      limit: 50,
      remaining: 49,
      reset: (START + 15 * 60_000) / 1000,
      userDay: { limit: 400, remaining: 399 },
    });
  });

  it('surfaces 429s with their reset, and truncated bodies as partial responses', async () => {
    // Prepare
    harness = await startHarness({
      server: {
        faults: [
          { endpoint: 'me', kind: '429' },
          { endpoint: 'me', kind: 'truncated' },
        ],
      },
    });
    const api = client(harness);

    // Act
    const limited = await api.v2.me().catch((error: unknown) => error);
    const truncated = await api.v2.me().catch((error: unknown) => error);

    // Assess
    expect(limited).toBeInstanceOf(ApiResponseError);
    expect((limited as ApiResponseError).rateLimitError).toBe(true);
    expect((limited as ApiResponseError).rateLimit?.reset).toBe((START + 15 * 60_000) / 1000);
    expect(truncated).toBeInstanceOf(ApiPartialResponseError);
  });
});
