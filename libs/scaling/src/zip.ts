import { crc32 } from 'node:zlib';

/*
 * A deterministic zip writer, for the controller's Lambda package. The bytes
 * depend on the entries' names and contents only: entries sorted by name, every
 * timestamp the DOS epoch (1980-01-01 00:00), fixed permissions (0644), no extra
 * fields. Entries are STORED, not deflated: zlib's deflate output may differ
 * between zlib builds and CPUs (Node bundles Chromium's zlib, whose SIMD paths
 * are chosen at run time), and a different byte would change the asset hash and
 * the synthesized JSON. Lambda accepts stored entries; the controller's ~0.7 MB
 * bundle is far below its 50 MB direct-upload limit.
 */

/** One file in the archive. */
export interface ZipEntry {
  /** Path inside the archive, with forward slashes, e.g. `index.js`. */
  readonly name: string;
  readonly data: Buffer;
}

/** 1980-01-01 (year 0 since 1980, month 1, day 1) at 00:00:00, in MS-DOS format. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
/** "Made by" Unix (3), spec version 2.0, so unzip and Lambda honour the permission bits. */
const MADE_BY = (3 << 8) | 20;
const VERSION_NEEDED = 20;
/** A regular file, rw-r--r--, in the high half of the external attributes. */
const FILE_ATTRIBUTES = (0o100644 << 16) >>> 0;
const STORED = 0;

/** A zip of `entries` (sorted by name), byte-identical for identical input. */
export function deterministicZip(entries: readonly ZipEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].name === sorted[i - 1].name) throw new Error(`zip: ${sorted[i].name} is listed twice`);
  }
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    if (!/^[^/\\][^\\]*$/.test(entry.name) || entry.name.split('/').includes('..')) {
      throw new Error(`zip: ${JSON.stringify(entry.name)} is not a relative path with forward slashes`);
    }
    const name = Buffer.from(entry.name, 'utf8');
    const crc = crc32(entry.data);
    const size = entry.data.length;
    if (size > 0xfffffffe || offset > 0xfffffffe) throw new Error('zip: entries over 4 GiB need zip64, which this writer does not do');

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(STORED, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(size, 18); // compressed size
    local.writeUInt32LE(size, 22); // uncompressed size
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // extra field length
    locals.push(local, name, entry.data);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(0, 8); // flags
    central.writeUInt16LE(STORED, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(size, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number start, internal attributes: 0
    central.writeUInt32LE(FILE_ATTRIBUTES, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + size;
  }
  const centralSize = centrals.reduce((sum, b) => sum + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8); // entries on this disk
  end.writeUInt16LE(sorted.length, 10); // entries in total
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}
