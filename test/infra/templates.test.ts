import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SynthesizedApp, synthesize } from './support.ts';

const execFile$ = promisify(execFile);

/**
 * cfn-lint where it is installed (here and in CI). W3005 is ignored: CDK's Function adds an explicit
 * DependsOn on its role beside the GetAtt of the role's ARN, which cfn-lint calls redundant; it is
 * harmless and not ours to remove. Any other finding, warning or error, fails.
 */
const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8', timeout: 60_000 });
const linters = cfnLint.status === 0 ? [{ name: `cfn-lint ${cfnLint.stdout.trim()}` }] : [];
const ignoredChecks = ['W3005'];

let dev: SynthesizedApp;
let prod: SynthesizedApp;

beforeAll(() => {
  // dev as `npm run synth` makes it, functions bundled by esbuild; prod for its templates.
  dev = synthesize({ stage: 'dev', bundle: true });
  prod = synthesize({ stage: 'prod' });
}, 120_000);

function templatesIn(outdir: string): string[] {
  return readdirSync(outdir)
    .filter((file) => file.endsWith('.template.json'))
    .map((file) => join(outdir, file));
}

describe('synthesized cloud assembly', () => {
  it('bundles each function into one minified ESM file with a source map', () => {
    // Prepare
    const assets = readdirSync(dev.outdir).filter((entry) => entry.startsWith('asset.'));

    // Assess: six functions, six assets, each an index.mjs of the SDK-bundled code.
    expect(assets).toHaveLength(6);
    for (const asset of assets) {
      const bundle = join(dev.outdir, asset, 'index.mjs');
      expect(existsSync(bundle)).toBe(true);
      expect(existsSync(`${bundle}.map`)).toBe(true);
      expect(statSync(bundle).size).toBeGreaterThan(50_000);
    }
  });

  it('writes the two stacks of each stage', () => {
    expect(templatesIn(dev.outdir).map((path) => path.split('/').at(-1))).toEqual([
      'Followback-dev-Stateful.template.json',
      'Followback-dev-Stateless.template.json',
    ]);
    expect(templatesIn(prod.outdir)).toHaveLength(2);
  });
});

describe.each(linters)('$name on the synthesized templates', () => {
  it.each(['dev', 'prod'])(
    'finds nothing in the %s templates',
    async (stage) => {
      // Prepare
      const templates = templatesIn(stage === 'dev' ? dev.outdir : prod.outdir);

      // Act
      const result = await execFile$(
        'cfn-lint',
        ['--format', 'parseable', '--ignore-checks', ...ignoredChecks, '--', ...templates],
        { timeout: 120_000 },
      ).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code?: number; stdout?: string }) => ({
          code: error.code ?? -1,
          stdout: error.stdout ?? '',
        }),
      );

      // Assess
      expect(result.stdout).toBe('');
      expect(result.code).toBe(0);
    },
    120_000,
  );
});
