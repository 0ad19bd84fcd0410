import * as zlib from 'node:zlib';
import { defined } from '../invariant.ts';

let table: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zlib and gzip), table-driven. */
export function crc32Portable(bytes: Uint8Array): number {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of bytes)
    crc = defined(table[(crc ^ byte) & 0xff], 'a byte index of the table') ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 of the bytes: zlib's native one where Node has it (20.15+, 22.2+), the portable one otherwise. */
export function crc32(bytes: Uint8Array): number {
  return native === undefined ? crc32Portable(bytes) : native(bytes) >>> 0;
}
