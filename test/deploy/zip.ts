import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/** One file in a zip archive. */
export interface ZipEntry {
  name: string;
  read(): Buffer;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

/**
 * Lists the entries of a zip file (stored or deflated, no ZIP64), which is
 * all that serverless-esbuild writes for a function of a few megabytes.
 */
export function readZip(path: string): ZipEntry[] {
  const data = readFileSync(path);
  const end = findEndOfCentralDirectory(data);
  const count = data.readUInt16LE(end + 10);
  let offset = data.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index++) {
    if (data.readUInt32LE(offset) !== CENTRAL_DIRECTORY_ENTRY) {
      throw new Error(`${path}: broken central directory at byte ${offset}`);
    }
    const method = data.readUInt16LE(offset + 10);
    const compressedSize = data.readUInt32LE(offset + 20);
    const nameLength = data.readUInt16LE(offset + 28);
    const extraLength = data.readUInt16LE(offset + 30);
    const commentLength = data.readUInt16LE(offset + 32);
    const headerOffset = data.readUInt32LE(offset + 42);
    const name = data.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.push({
      name,
      read: () =>
        readEntry(data, path, name, method, headerOffset, compressedSize),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }

  return entries;
}

function findEndOfCentralDirectory(data: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes.
  const lowest = Math.max(0, data.length - 22 - 0xffff);
  for (let offset = data.length - 22; offset >= lowest; offset--) {
    if (data.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) return offset;
  }
  throw new Error('not a zip file: no end of central directory record');
}

function readEntry(
  data: Buffer,
  path: string,
  name: string,
  method: number,
  headerOffset: number,
  compressedSize: number,
): Buffer {
  if (data.readUInt32LE(headerOffset) !== LOCAL_FILE_HEADER) {
    throw new Error(`${path}: broken local header of ${name}`);
  }
  const start =
    headerOffset +
    30 +
    data.readUInt16LE(headerOffset + 26) +
    data.readUInt16LE(headerOffset + 28);
  const raw = data.subarray(start, start + compressedSize);
  if (method === 0) return Buffer.from(raw);
  if (method === 8) return inflateRawSync(raw);
  throw new Error(`${path}: ${name} uses unsupported compression ${method}`);
}
