/** Debug aid: a seed's follow calls, the limiter's buckets and the open tasks at the end. */

import { loadFollowLimiters } from '../shared/app/engine/limits.ts';
import { policyOf as engineP } from '../shared/app/engine/policy-of.ts';
import { quietCalendarOf, suggestedReserve } from '../shared/domain/engine/policy.ts';
import { pickNext } from '../shared/domain/engine/schedule.ts';
import { defined } from '../shared/domain/invariant.ts';
import { runSeed } from './seed.ts';

const seed = Number(process.argv[2]);
await runSeed(seed, {
  inspect: async ({ world, ownerId, store, account, start, platform }) => {
    const H = 3_600_000;
    const rel = (t: number) => `+${((t - start) / H + 1).toFixed(2)}h`;
    const calls = world.followCalls(ownerId);
    console.log('calls', calls.length, calls.map((c) => `${rel(c.at)}:${c.outcome}`).join(' '));
    const served = platform.served.filter((s) => s.endpoint === 'follow');
    console.log(
      'served follow',
      served.length,
      served
        .slice(-80)
        .map((s) => `${rel(s.at)}:${s.result}`)
        .join(' '),
    );
    for (const name of ['follows', 'follow', 'limiter', 'x-app']) {
      const b = await store.getBucket({ scope: 'account', ref: account, name });
      if (b) console.log('bucket', name, JSON.stringify(b).slice(0, 2000));
    }
    const tasks = (await store.listTasks(account)).map((e) => e.task);
    const open = tasks.filter((t) => !['done', 'skipped', 'requested'].includes(t.state));
    console.log(
      'open',
      open.length,
      open.slice(0, 5).map((t) => JSON.stringify(t).slice(0, 400)),
    );
    const state = defined(await store.getState(account), 'the state of the simulated account').state;
    const observe = (state as { observe: { growthPerHour: number } }).observe;
    console.log(
      'growthPerHour',
      observe.growthPerHour,
      'reserve',
      suggestedReserve(observe.growthPerHour, account.policy as never),
    );
    const policy = engineP(account);
    const limiters = await loadFollowLimiters(store, account, policy, null);
    const all = (await store.listTasks(account)).map((e) => e.task);
    const now = Math.max(...all.map((t) => t.updatedAt ?? 0));
    console.log('now', rel(now));
    for (const reserve of [0, suggestedReserve(observe.growthPerHour, policy)]) {
      const plan = pickNext(
        all,
        now,
        {
          limiters: limiters.map(({ config, state }) => ({ config, state })),
          quiet: quietCalendarOf(policy),
        },
        { until: now + 6 * H, reserve },
      );
      console.log(
        'reserve',
        reserve,
        'picks in 6h',
        plan.picks.length,
        'lanes',
        plan.picks.map((p) => p.lane[0]).join(''),
        'lateAllowance',
        plan.lateAllowance,
        'queue',
        plan.queue.length,
      );
    }
    console.log(
      'engine state',
      JSON.stringify((state as Record<string, unknown>).engine ?? {}).slice(0, 800),
    );
  },
});
