/**
 * The digest use cases: gather a client's facts and build the digest (build.ts), decide when it is
 * due in the client's zone (schedule.ts), send it exactly once per period (send.ts, deliver.ts),
 * the operator's roll-up (rollup.ts), the hourly dispatch (dispatch.ts), the preview written to the
 * outbox (preview.ts).
 */
export {
  type AgencyInfo,
  type BuildOptions,
  type BuiltDigest,
  buildClientDigest,
  buildClientDigestModel,
  type DigestBuildDeps,
  type DigestFactsStore,
  followerCounts,
  gatherAccountFacts,
} from './build.ts';
export {
  type ComposedMail,
  DEFAULT_LEASE_MS,
  type DeliverDeps,
  type DeliveryRequest,
  type DeliveryResult,
  deliverOnce,
  type UncertainPolicy,
} from './deliver.ts';
export {
  type DispatchDeps,
  type DueDigest,
  dueDigests,
  rollupIsDue,
  type SendDueResult,
  sendDueDigests,
} from './dispatch.ts';
export {
  LOCAL_AGENCY,
  type PreviewDeps,
  type PreviewOptions,
  type PreviewResult,
  previewDigests,
} from './preview.ts';
export {
  AGENCY_KEY,
  buildRollupParts,
  type RollupResult,
  rollupScheduleOf,
  sendDueRollup,
  sendRollupForPeriod,
} from './rollup.ts';
export {
  addDays,
  DEFAULT_CATCH_UP_MS,
  DEFAULT_DIGEST_HOUR,
  DEFAULT_DIGEST_WEEKDAY,
  type DigestPeriod,
  type DigestSchedule,
  type DueCheck,
  describeSchedule,
  digestDue,
  digestScheduleOf,
  isoWeekday,
  type LocalDate,
  latestPeriod,
  latestSendAt,
  latestSendDate,
  localDateOf,
  localToUtc,
  nextSendAt,
  periodBefore,
  sendAtOn,
} from './schedule.ts';
export {
  type ClientDigestResult,
  composeDigest,
  type DigestSendDeps,
  digestMessageId,
  sendClientDigest,
  sendDigestForPeriod,
} from './send.ts';
