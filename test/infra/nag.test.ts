import { Validations } from 'aws-cdk-lib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportedViolations, synthesize, temporaryOutdir } from './support.ts';

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

function acknowledgementsOf(app: ReturnType<typeof synthesize>['app']): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  for (const construct of app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, id: id.replace(/^Annotation::/, ''), reason });
      }
    }
  }
  return found;
}

const functions = ['TickDispatch', 'AccountWorker', 'ApprovalPage', 'DigestDispatch', 'DigestWorker'];

/** Every acknowledgement of a stage: rule (and finding) id, where. Reasons are checked separately. */
function expectedAcknowledgements(stage: 'dev' | 'prod'): { path: string; id: string }[] {
  const prefix = `Followback-${stage}`;
  return [
    { path: `${prefix}-Stateful/ApprovalSigningKey`, id: 'AwsSolutions-SMG4' },
    { path: `${prefix}-Stateless/ScheduleDeadLetters`, id: 'AwsSolutions-SQS3' },
    ...functions.map((fn) => ({ path: `${prefix}-Stateless/${fn}/Function`, id: 'AwsSolutions-L1' })),
    // X-Ray's two actions take no resource: only where tracing is on (prod).
    ...(stage === 'prod'
      ? functions.map((fn) => ({
          path: `${prefix}-Stateless/${fn}/Role`,
          id: 'AwsSolutions-IAM5[Resource::*]',
        }))
      : []),
    // The operator console: its user pool (no Plus plan), the public client id's secret, its function like the others.
    { path: `${prefix}-Stateless/Console/Operators`, id: 'AwsSolutions-COG8' },
    { path: `${prefix}-Stateless/Console/ClientId`, id: 'AwsSolutions-SMG4' },
    { path: `${prefix}-Stateless/Console/Function/Function`, id: 'AwsSolutions-L1' },
    ...(stage === 'prod'
      ? [{ path: `${prefix}-Stateless/Console/Function/Role`, id: 'AwsSolutions-IAM5[Resource::*]' }]
      : []),
  ];
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(['dev', 'prod'] as const)('cdk-nag AwsSolutions on %s', (stage) => {
  it('reports no finding that is not acknowledged', () => {
    // Act
    const synthesized = synthesize({ stage });

    // Assess
    expect(reportedViolations(synthesized.outdir)).toEqual([]);
  });

  it('acknowledges exactly the expected findings, each with a reason', () => {
    // Act
    const acknowledgements = acknowledgementsOf(synthesize({ stage }).app);

    // Assess
    expect(acknowledgements.map(({ path, id }) => ({ path, id }))).toEqual(
      expect.arrayContaining(expectedAcknowledgements(stage)),
    );
    expect(acknowledgements).toHaveLength(expectedAcknowledgements(stage).length);
    for (const { reason } of acknowledgements) expect(reason.length).toBeGreaterThan(120);
  });

  it('has a finding behind every acknowledgement (none is stale)', () => {
    // Prepare: the same app with every acknowledgement ignored.
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => {});
    const outdir = temporaryOutdir();

    // Act
    const synthesizing = () => synthesize({ stage, outdir });

    // Assess
    expect(synthesizing).toThrow(/AwsSolutions/);
    const findings = reportedViolations(outdir).flatMap((violation) =>
      violation.constructPaths.map((path) => ({ id: violation.ruleName, path })),
    );
    const expected = expectedAcknowledgements(stage);
    expect(findings).toHaveLength(expected.length);
    for (const ack of expected) {
      expect(findings).toContainEqual({
        id: ack.id,
        path: expect.stringMatching(new RegExp(`^${ack.path}/`)),
      });
    }
  });
});
