/**
 * One-click approvals from the digest, pure: signed, expiring tokens (single use is the store's
 * conditional write on `tokenId`). The pages the approval endpoint serves are presentation
 * (shared/presentation/approval/page.ts). A GET shows a page; only a POST from that page acts.
 */
export {
  APPROVAL_TOKEN_TTL_MS,
  APPROVAL_TOKEN_VERSION,
  type ApprovalKey,
  type ApprovalKeys,
  type ApprovalRefusal,
  type ApprovalScope,
  type ApprovalTokenPayload,
  type ExpectedToken,
  generateApprovalKey,
  MAX_TOKEN_LENGTH,
  MIN_KEY_BYTES,
  type SignApprovalTokenInput,
  signApprovalToken,
  tokenCovers,
  UNSUBSCRIBE_TOKEN_TTL_MS,
  type VerifyApprovalResult,
  verifyApprovalToken,
} from './token.ts';
