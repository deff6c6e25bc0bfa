// Test helper: an independent, deliberately naive (whole buffer in memory)
// MD5-of-MD5-of-CRC32C reference for small test contents (contract 4.5).

import { createHash } from "node:crypto";
import { crc32c } from "@node-rs/crc32";

export function referenceChecksum(content: Buffer, blockSize: number, bytesPerCrc = 512): { algorithm: string; bytes: string } {
  const blockDigests: Buffer[] = [];
  for (let b = 0; b < content.length; b += blockSize) {
    const block = content.subarray(b, Math.min(content.length, b + blockSize));
    const crcs: Buffer[] = [];
    for (let c = 0; c < block.length; c += bytesPerCrc) {
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32c(block.subarray(c, Math.min(block.length, c + bytesPerCrc))) >>> 0);
      crcs.push(crc);
    }
    blockDigests.push(createHash("md5").update(Buffer.concat(crcs)).digest());
  }
  const crcPerBlock = blockDigests.length > 1 ? blockSize / bytesPerCrc : 0;
  const header = Buffer.alloc(12);
  header.writeUInt32BE(bytesPerCrc, 0);
  header.writeBigUInt64BE(BigInt(crcPerBlock), 4);
  // DFSClient hashes its whole DataOutputBuffer array: the block MD5s, then zeros up to the
  // buffer's capacity (32 bytes, doubling), as a real DataNode showed (see contract 4.5).
  const digests = Buffer.concat(blockDigests);
  let capacity = 32;
  while (capacity < digests.length) capacity *= 2;
  const md5 = createHash("md5").update(Buffer.concat([digests, Buffer.alloc(capacity - digests.length)])).digest();
  return {
    algorithm: `MD5-of-${crcPerBlock}MD5-of-${bytesPerCrc}CRC32C`,
    bytes: Buffer.concat([header, md5, Buffer.alloc(4)]).toString("hex"),
  };
}
