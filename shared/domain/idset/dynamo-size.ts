/**
 * DynamoDB item size and write-unit estimates, following the published rules
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 * an item's size is the sum over attributes of the UTF-8 length of the name plus the value size;
 * strings count their UTF-8 bytes, binary its raw bytes (not base64), numbers about one byte per two
 * significant digits plus one, booleans and null one byte, lists and maps 3 bytes plus one byte per
 * element plus the elements, sets the sum of their elements. A standard write costs one unit per
 * started KB (1,024 bytes) of the item, at least one; a delete costs by the size of the deleted item.
 */
import { ValidationError } from '../errors.ts';

/** A plain JS attribute value, as given to @aws-sdk/util-dynamodb's marshall. */
export type DynamoValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | ReadonlySet<string>
  | ReadonlySet<number>
  | ReadonlySet<bigint>
  | ReadonlySet<Uint8Array>
  | readonly DynamoValue[]
  | { readonly [name: string]: DynamoValue };

export type DynamoItem = { readonly [name: string]: DynamoValue };

/** The largest item DynamoDB stores, in bytes. */
export const DYNAMO_MAX_ITEM_BYTES = 400 * 1024;

const encoder = new TextEncoder();

/** UTF-8 length of a string without allocating the encoded bytes for ASCII. */
export function utf8Length(s: string): number {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? s.length : encoder.encode(s).length;
}

/** Approximate stored size of a number: one byte per two significant digits, plus one. */
export function numberSize(value: number | bigint | string): number {
  const text = typeof value === 'string' ? value : value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new ValidationError(`DynamoDB cannot store the number ${value}`, { details: { value } });
  }
  // Scientific notation (1e21) has its significant digits before the 'e'.
  const [mantissa = ''] = text.toLowerCase().split('e'); // split always yields at least one part
  const significant = mantissa.replace(/[-+.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(significant.length, 1) / 2) + 1;
}

/** Size of one attribute value in bytes. */
export function valueSize(value: DynamoValue): number {
  if (typeof value === 'string') return utf8Length(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(value);
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let total = 0;
    for (const element of value as ReadonlySet<DynamoValue>) total += valueSize(element);
    return total;
  }
  if (Array.isArray(value)) {
    let total = 3;
    for (const element of value as readonly DynamoValue[]) total += 1 + valueSize(element);
    return total;
  }
  let total = 3;
  for (const [name, element] of Object.entries(value as { readonly [name: string]: DynamoValue })) {
    total += 1 + utf8Length(name) + valueSize(element);
  }
  return total;
}

/** Size of an item in bytes: attribute names plus values. Undefined attributes are not stored. */
export function itemSizeBytes(item: DynamoItem): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    total += utf8Length(name) + valueSize(value);
  }
  return total;
}

/** Write units of a standard put or delete of an item of this size: one per started KB, at least one. */
export function itemWriteUnits(sizeBytes: number): number {
  if (!Number.isFinite(sizeBytes) || sizeBytes < 0) {
    throw new ValidationError(`item size must be a non-negative number, got ${sizeBytes}`, {
      details: { sizeBytes },
    });
  }
  return Math.max(1, Math.ceil(sizeBytes / 1024));
}
