// GETFILECHECKSUM's MD5-of-MD5-of-CRC32C value, computed the way a DataNode and
// DFSClient combine it (contract 4.5): a CRC32C per `bytesPerCrc` chunk, an MD5
// over each block's CRCs, an MD5 over the block MD5s, serialised as
// bytesPerCRC (4) + crcPerBlock (8) + MD5 (16) and padded with 4 zero bytes.
// The file-level MD5 is taken over DFSClient's whole DataOutputBuffer array, not just the bytes
// written: the 16-byte block MD5s followed by zeros up to the buffer's capacity (32 bytes, doubled
// as needed). So a one-block file hashes its block MD5 plus 16 zero bytes, and an empty file the 32
// zero bytes. Checked against a real Hadoop 3.4.2 DataNode by the interop run (scenario 4).
// The file is streamed; memory use is one read buffer plus one block's CRCs.

import { createHash, type Hash } from "node:crypto";
import { crc32c } from "@node-rs/crc32";
import type { Readable } from "node:stream";

export const BYTES_PER_CRC = 512;

export interface ChecksumValue {
  algorithm: string;
  bytes: string;
  length: 28;
}

/** The fixed value HDFS reports for an empty file (CRC32-labelled, MD5 of 32 zero bytes). */
export function emptyFileChecksum(): ChecksumValue {
  return { algorithm: "MD5-of-0MD5-of-0CRC32", bytes: serialise(0, 0, createHash("md5").update(Buffer.alloc(32)).digest()), length: 28 };
}

function serialise(bytesPerCrc: number, crcPerBlock: number, md5: Buffer): string {
  const out = Buffer.alloc(32);
  out.writeUInt32BE(bytesPerCrc, 0);
  out.writeBigUInt64BE(BigInt(crcPerBlock), 4);
  md5.copy(out, 12);
  return out.toString("hex");
}

/** Capacity of a java.io.ByteArrayOutputStream (initially 32, doubling) after `n` bytes were written. */
export function md5BufferCapacity(n: number): number {
  let cap = 32;
  while (cap < n) cap *= 2;
  return cap;
}

/** Computes the checksum of `length` bytes read from `data` with HDFS block size `blockSize`. */
export async function md5Md5Crc32c(data: Readable, length: number, blockSize: number): Promise<ChecksumValue> {
  if (length === 0) return emptyFileChecksum();
  const fileMd5 = createHash("md5");
  const crc = Buffer.alloc(4);
  let blockMd5: Hash = createHash("md5");
  let blocks = 0;
  let inBlock = 0; // bytes of the current block consumed
  let chunkCrc = 0; // running CRC of the current (partial) chunk
  let inChunk = 0;
  const endChunk = () => {
    crc.writeUInt32BE(chunkCrc >>> 0, 0);
    blockMd5.update(crc);
    chunkCrc = 0;
    inChunk = 0;
  };
  const endBlock = () => {
    if (inChunk > 0) endChunk();
    fileMd5.update(blockMd5.digest());
    blocks++;
    blockMd5 = createHash("md5");
    inBlock = 0;
  };
  for await (const piece of data as AsyncIterable<Buffer>) {
    let pos = 0;
    while (pos < piece.length) {
      const take = Math.min(piece.length - pos, BYTES_PER_CRC - inChunk, blockSize - inBlock);
      chunkCrc = crc32c(piece.subarray(pos, pos + take), chunkCrc);
      pos += take;
      inChunk += take;
      inBlock += take;
      if (inChunk === BYTES_PER_CRC) endChunk();
      if (inBlock === blockSize) endBlock();
    }
  }
  if (inBlock > 0) endBlock();
  fileMd5.update(Buffer.alloc(md5BufferCapacity(blocks * 16) - blocks * 16));
  const crcPerBlock = blocks > 1 ? blockSize / BYTES_PER_CRC : 0;
  return {
    algorithm: `MD5-of-${crcPerBlock}MD5-of-${BYTES_PER_CRC}CRC32C`,
    bytes: serialise(BYTES_PER_CRC, crcPerBlock, fileMd5.digest()),
    length: 28,
  };
}
