/**
 * The dependency rule (.dependency-cruiser.cjs) catches what it says it catches: one deliberate
 * violation per rule in test/fixtures/deps (a tree shaped like the project's), cruised with the
 * project's own configuration. `npm run check` runs the same rules on the real tree.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = resolve(ROOT, 'test/fixtures/deps');
const CLI = resolve(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const CONFIG = resolve(ROOT, '.dependency-cruiser.cjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Cruises the fixtures as `npm run deps` cruises the project (`err`: the exit code CI sees) and as JSON. */
async function cruiseFixtures(): Promise<{ violations: Violation[]; exitCode: number }> {
  const run = (outputType: string) =>
    promisify(execFile)(
      process.execPath,
      [CLI, '--config', CONFIG, '--output-type', outputType, 'shared', 'functions'],
      { cwd: FIXTURES, maxBuffer: 32 * 1024 * 1024 },
    ).then(
      (ok) => ({ stdout: ok.stdout, exitCode: 0 }),
      (error: { stdout?: string; code?: number }) => ({
        stdout: error.stdout ?? '',
        exitCode: error.code ?? 1,
      }),
    );
  const [err, json] = await Promise.all([run('err'), run('json')]);
  const output = JSON.parse(json.stdout) as { summary: { violations: Violation[] } };
  return { violations: output.summary.violations, exitCode: err.exitCode };
}

let cruised: Promise<{ violations: Violation[]; exitCode: number }> | undefined;
const cruise = () => {
  cruised ??= cruiseFixtures();
  return cruised;
};

/** `rule: from → to`, with node_modules paths cut to the package name. */
function described(violations: readonly Violation[]): string[] {
  return violations
    .map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')}`)
    .sort();
}

describe('the dependency rule', () => {
  it('fails on each deliberate violation, and only on those', async () => {
    // Act
    const { violations, exitCode } = await cruise();

    // Assess
    expect(exitCode).not.toBe(0);
    expect(described(violations)).toEqual(
      [
        'app-imports-no-adapter: shared/app/use-case.ts → shared/adapters/thing.ts',
        'app-imports-no-io-library: shared/app/use-case.ts → @aws-sdk/client-dynamodb',
        'app-imports-no-io-library: shared/app/use-case.ts → http',
        'app-imports-no-io-library: shared/app/use-case.ts → twitter-api-v2',
        'domain-is-pure: shared/domain/leaky.ts → fs/promises',
        'domain-is-pure: shared/domain/leaky.ts → shared/ports/store.ts',
        'handlers-hold-no-engine-policy: functions/handlers/worker.ts → shared/domain/engine/policy.ts',
        'handlers-use-only-domain-errors: functions/handlers/worker.ts → shared/domain/account.ts',
        'handlers-use-only-domain-errors: functions/handlers/worker.ts → shared/domain/engine/policy.ts',
        'ports-import-no-implementation: shared/ports/store.ts → shared/adapters/thing.ts',
        'presentation-is-pure: shared/presentation/page.ts → shared/adapters/thing.ts',
        'presentation-takes-only-types-from-ports-and-app: shared/presentation/page.ts → shared/ports/store.ts',
      ].sort(),
    );
  });

  it('lets the domain use what does no I/O (node:crypto, node:zlib, pure-rand) and a handler use types and errors', async () => {
    // Act
    const { violations } = await cruise();

    // Assess
    const froms = violations.map((v) => `${v.from} → ${v.to}`);
    expect(froms.filter((line) => line.startsWith('shared/domain/pure.ts'))).toEqual([]);
    expect(froms.filter((line) => line.endsWith('shared/domain/errors.ts'))).toEqual([]);
  });
});
