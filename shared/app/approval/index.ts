/**
 * The approval endpoint: links in the digest (links.ts), the request handler behind the local
 * server and the AWS Function URL (handle.ts), and the signing keys as configuration (keys.ts).
 */
export {
  type ApprovalDeps,
  type ApprovalRequest,
  type ApprovalResponse,
  handleApprovalRequest,
  MAX_REQUEST_BODY_BYTES,
} from './handle.ts';
export { formatApprovalKey, parseApprovalKeys } from './keys.ts';
export {
  APPROVE_ROUTE,
  approvePath,
  batchLink,
  candidateLink,
  type LinkSigner,
  MAX_BATCH_LINK_TARGETS,
  normaliseBaseUrl,
  UNSUBSCRIBE_ROUTE,
  unsubscribeLink,
  unsubscribePath,
} from './links.ts';
