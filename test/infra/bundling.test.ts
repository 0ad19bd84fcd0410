import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptionsFor } from '../../infra/bundling.ts';

describe('Lambda bundling', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'followback-bundling-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps zod's English messages and leaves classic zod out of a function's bundle", async () => {
    // Prepare
    const outfile = join(dir, 'tick-dispatch', 'index.mjs');

    // Act
    const { metafile } = await build({ ...esbuildOptionsFor('tick-dispatch', outfile), metafile: true });
    const code = await readFile(outfile, 'utf8');

    // Assess
    expect(code).toContain('Too small: expected');
    expect(Object.keys(metafile.inputs).filter((path) => path.includes('zod/v4/classic/'))).toEqual([]);
  });
});
