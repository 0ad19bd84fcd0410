import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seedDemo } from '../../shared/runtime/demo.ts';
import { type LocalRuntime, openLocalRuntime } from '../../shared/runtime/local.ts';

let dir: string | undefined;
let runtime: LocalRuntime | undefined;

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('local runtime credentials', () => {
  it('keeps the demo tokens sealed in the table, not in world.json, and reaches the sandbox with them', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'followback-local-cred-'));
    runtime = await openLocalRuntime({ dir });

    // Act
    const { accounts } = await seedDemo(runtime);
    const me = await runtime.platformFor(accounts[0]!).me();
    await runtime.save();

    // Assess
    const stored = await runtime.credentials.get(accounts[0]!, 'x');
    expect(stored?.credentials.accessToken).toMatch(/^sbx-/);
    expect(me.id).toBe(accounts[0]!.platformUserId);
    const world = await readFile(join(dir, 'world.json'), 'utf8');
    expect(JSON.parse(world).credentials).toBeUndefined();
    expect(world).not.toContain(stored!.credentials.accessToken);
  });

  it('moves the plain-text tokens of an earlier world.json into the vault, and writes them no more', async () => {
    // Prepare: a world.json as earlier versions wrote it, with the token the world issues first
    dir = await mkdtemp(join(tmpdir(), 'followback-local-cred-'));
    runtime = await openLocalRuntime({ dir });
    const { accounts } = await seedDemo(runtime);
    const token = (await runtime.credentials.get(accounts[0]!, 'x'))!.credentials.accessToken;
    await runtime.close();
    const world = JSON.parse(await readFile(join(dir, 'world.json'), 'utf8'));
    await rm(join(dir, 'dynamo'), { recursive: true, force: true });
    await writeFile(
      join(dir, 'world.json'),
      JSON.stringify({ ...world, credentials: { [`demo/${accounts[0]!.accountId}`]: token } }),
    );

    // Act
    runtime = await openLocalRuntime({ dir });
    await runtime.save();

    // Assess
    expect((await runtime.credentials.get(accounts[0]!, 'x'))?.credentials.accessToken).toBe(token);
    expect(await readFile(join(dir, 'world.json'), 'utf8')).not.toContain(token);
  });
});
