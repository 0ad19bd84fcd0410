/** Conditional writes of the DynamoDB adapters: the versioned-put condition and how a lost one fails. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * The condition of a put at `expectedVersion`: version 0 means the item must not exist yet; any other
 * means the stored item is still at that version.
 */
export function versionCondition(expectedVersion: number): {
  ConditionExpression: string;
  ExpressionAttributeValues?: { ':expected': { N: string } };
} {
  return expectedVersion === 0
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : {
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
      };
}

/** Whether a write failed on its condition (the SDK's class, or an error of its name from another copy). */
export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/** An SDK error's name (its exception class), or the thrown value as text. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : String(error);
}
