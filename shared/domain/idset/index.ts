/**
 * The id-set domain: compact snapshots of follower / following id lists.
 *
 * Numeric ids (X) live in numeric-ids.ts and numeric-codec.ts; string ids (Bluesky DIDs, Mastodon
 * ids) in string-ids.ts and string-codec.ts (encoding kinds 3 and 4). Use cases take their id
 * handling from ids.ts: `idCodecFor(network)`.
 */
export { chunkBytes, joinChunks, MAX_CHUNK_BYTES } from './chunks.ts';
export { crc32 } from './crc32.ts';
export {
  DYNAMO_MAX_ITEM_BYTES,
  type DynamoItem,
  type DynamoValue,
  itemSizeBytes,
  itemWriteUnits,
  numberSize,
  utf8Length,
  valueSize,
} from './dynamo-size.ts';
export { CorruptEncodingError, type CorruptEncodingReason } from './errors.ts';
export { IdSet } from './id-set.ts';
export {
  type IdCodec,
  type IdKind,
  type IdList,
  idCodecFor,
  numericIdCodec,
  stringIdCodec,
} from './ids.ts';
export {
  decodeDelta,
  decodeIds,
  type EncodeOptions,
  encodeDelta,
  encodeIds,
  ID_FORMAT_VERSION,
  type IdCompression,
  IdEncodingKind,
  peekEncoding,
} from './numeric-codec.ts';
export { formatId, formatIds, MAX_NUMERIC_ID, parseId, parseIds } from './numeric-ids.ts';
export {
  applyDelta,
  assertSortedUnique,
  diffSorted,
  has,
  type IdDelta,
  indexOf,
  isSortedUnique,
  sortUnique,
} from './sorted.ts';
export {
  decodeStringDelta,
  decodeStringIds,
  encodeStringDelta,
  encodeStringIds,
  isCanonicalDecimal,
  type StringIdDelta,
} from './string-codec.ts';
export {
  applyStringDelta,
  assertStringIds,
  compareStringIds,
  diffStrings,
  indexOfString,
  MAX_STRING_ID_LENGTH,
  type StringIdList,
  sortUniqueStrings,
} from './string-ids.ts';
