import { defined } from '../shared/domain/invariant.ts';
import { runSeed } from './seed.ts';

const [seedArg, target] = process.argv.slice(2);
await runSeed(Number(seedArg), {
  inspect: async ({ world, ownerId, store, account, start }) => {
    const H = 3_600_000;
    const rel = (t: number) => `+${((t - start) / H + 1).toFixed(2)}h`;
    console.log(
      'events',
      world
        .events({ ownerId })
        .filter((e) => e.userId === target)
        .map((e) => `${e.kind}@${rel(e.at)}`),
    );
    console.log(
      'follower now',
      world.isFollower(ownerId, target),
      'following',
      world.isFollowing(ownerId, target),
    );
    const state = defined(await store.getState(account), 'the state of the simulated account').state;
    console.log('observe', JSON.stringify(state.observe).slice(0, 1500));
    const changesets = await store.getChangesets(account, 0, state.observe.seq);
    for (const c of changesets) {
      const inProfiles = c.profiles.some((p) => p.id === target);
      console.log(
        c.seq,
        rel(c.at),
        c.kind,
        c.source,
        '+',
        c.addedCount,
        '-',
        c.removedCount,
        inProfiles ? 'HAS TARGET' : '',
        c.refollowed?.includes(target) ? 'REFOLLOWED' : '',
      );
    }
  },
});
