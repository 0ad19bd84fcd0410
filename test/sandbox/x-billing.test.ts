import { afterEach, describe, expect, it } from 'vitest';
import { XBilling } from '../../sandbox/x/billing.ts';
import { DAY, type Harness, HOUR, START, startHarness } from './helpers.ts';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('X sandbox: billing per app, user and UTC day', () => {
  it('bills a user returned again the same UTC day once, by any endpoint', async () => {
    // Prepare
    harness = await startHarness();
    const h = harness;
    const first = await h.get(`/2/users/${h.owner.id}/followers?max_results=10`);
    const ids = (first.body.data as Array<{ id: string }>).map((user) => user.id);

    // Act
    h.clock.advance(3 * HOUR);
    await h.get(`/2/users/${h.owner.id}/followers?max_results=20`);
    await h.get(`/2/users?ids=${ids.slice(0, 5).join(',')}`);

    // Assess
    const totals = h.sandbox.stats.snapshot().totals;
    expect(totals.usersReturned).toBe(10 + 20 + 5);
    expect(totals.usersBilled).toBe(20);
    expect(h.sandbox.billing.byApp().default).toEqual({ billed: 20, returned: 35 });
  });

  it('bills the same users again on the next UTC day', async () => {
    // Prepare
    harness = await startHarness();
    const h = harness;
    await h.get(`/2/users/${h.owner.id}/followers?max_results=10`);

    // Act
    const midnight = Date.UTC(2026, 0, 6);
    h.clock.advance(midnight - START);
    await h.get(`/2/users/${h.owner.id}/followers?max_results=10`);
    h.clock.advance(DAY - 1);
    await h.get(`/2/users/${h.owner.id}/followers?max_results=10`);

    // Assess
    expect(h.sandbox.stats.snapshot().totals.usersBilled).toBe(20);
  });

  it('bills each app for the users it was returned, apart from the others', () => {
    // Prepare
    const billing = new XBilling();
    const now = START;

    // Act
    const a = billing.bill('agency-app', ['1', '2', '3'], now);
    const b = billing.bill('client-app', ['2', '3'], now);
    const again = billing.bill('agency-app', ['3', '4'], now + HOUR);

    // Assess
    expect([a, b, again]).toEqual([3, 2, 1]);
    expect(billing.byApp()).toEqual({
      'agency-app': { billed: 4, returned: 5 },
      'client-app': { billed: 2, returned: 2 },
    });
  });
});
