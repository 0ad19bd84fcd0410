import type { AgencyInfo } from '../../shared/app/digest/build.ts';

/**
 * The agency as the digest functions know it, from their environment: the dispatcher and the worker
 * build it the same way, so they agree on when the roll-up is due (Monday 08:00 UTC, the use case's
 * default) and where it goes.
 */
export function agencyOf(env: {
  AGENCY_NAME: string;
  SENDER_ADDRESS: string;
  OPERATOR_EMAIL: string;
}): AgencyInfo {
  return {
    name: env.AGENCY_NAME,
    senderAddress: env.SENDER_ADDRESS,
    operatorEmails: [env.OPERATOR_EMAIL],
    timeZone: 'UTC',
  };
}
