/**
 * X's pay-per-use billing as its pricing page describes it (2026): every billable resource (here:
 * a user a read returns) is billed once per app and UTC day; the same user returned again the same
 * UTC day, by any endpoint, is not billed again (a "soft guarantee"). Time comes from the caller.
 */

export interface XBillingTotals {
  /** Users billed (first time in their app's UTC day). */
  billed: number;
  /** Users returned (every time). */
  returned: number;
}

export class XBilling {
  /** app → UTC day → users billed that day. Only the current day per app is kept. */
  readonly #seen = new Map<string, { day: string; ids: Set<string> }>();
  readonly #byApp = new Map<string, XBillingTotals>();

  /** Users of one answer, returned to `app` at `now`; how many of them are billed. */
  bill(app: string, userIds: readonly string[], now: number): number {
    const day = new Date(now).toISOString().slice(0, 10);
    let seen = this.#seen.get(app);
    if (seen === undefined || seen.day !== day) {
      seen = { day, ids: new Set() };
      this.#seen.set(app, seen);
    }
    let billed = 0;
    for (const id of userIds) {
      if (seen.ids.has(id)) continue;
      seen.ids.add(id);
      billed += 1;
    }
    const totals = this.#byApp.get(app) ?? { billed: 0, returned: 0 };
    totals.billed += billed;
    totals.returned += userIds.length;
    this.#byApp.set(app, totals);
    return billed;
  }

  /** Totals per app since the sandbox started. */
  byApp(): Record<string, XBillingTotals> {
    return Object.fromEntries([...this.#byApp].map(([app, totals]) => [app, { ...totals }]));
  }
}
