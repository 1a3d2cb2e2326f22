import { crc32 } from 'node:zlib';
import { deterministicZip } from './zip';

/** The entries of a zip, read back through its central directory. */
function readZip(zip: Buffer): { name: string; data: Buffer; time: number; date: number; mode: number; method: number }[] {
  const end = zip.length - 22;
  expect(zip.readUInt32LE(end)).toBe(0x06054b50);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const offset = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    expect(zip.readUInt32LE(offset)).toBe(0x04034b50);
    const dataStart = offset + 30 + zip.readUInt16LE(offset + 26) + zip.readUInt16LE(offset + 28);
    const data = zip.subarray(dataStart, dataStart + size);
    expect(crc32(data)).toBe(crc);
    out.push({
      name,
      data,
      time: zip.readUInt16LE(at + 12),
      date: zip.readUInt16LE(at + 14),
      mode: zip.readUInt32LE(at + 38) >>> 16,
      method,
    });
    at += 46 + nameLength;
  }
  return out;
}

describe('deterministicZip', () => {
  const a = Buffer.from('exports.handler = async () => 1;\n');
  const b = Buffer.from('{"b":true}\n');

  it('stores every entry readably, with its CRC, sorted by name', () => {
    const entries = readZip(
      deterministicZip([
        { name: 'lib/b.json', data: b },
        { name: 'index.js', data: a },
      ]),
    );
    expect(entries.map((e) => [e.name, e.data.toString()])).toEqual([
      ['index.js', a.toString()],
      ['lib/b.json', b.toString()],
    ]);
    expect(entries.every((e) => e.method === 0)).toBe(true);
  });

  it('gives every entry the DOS epoch and mode 0644, whatever the files on disk say', () => {
    for (const e of readZip(deterministicZip([{ name: 'index.js', data: a }]))) {
      expect([e.date, e.time]).toEqual([(1 << 5) | 1, 0]);
      expect(e.mode).toBe(0o100644);
    }
  });

  it('is byte-identical for the same entries in any order', () => {
    const one = deterministicZip([
      { name: 'index.js', data: a },
      { name: 'b.json', data: b },
    ]);
    const two = deterministicZip([
      { name: 'b.json', data: Buffer.from(b) },
      { name: 'index.js', data: Buffer.from(a) },
    ]);
    expect(two.equals(one)).toBe(true);
  });

  it('rejects absolute paths, parent folders and duplicates', () => {
    expect(() => deterministicZip([{ name: '/etc/passwd', data: a }])).toThrow('is not a relative path');
    expect(() => deterministicZip([{ name: 'a/../../x', data: a }])).toThrow('is not a relative path');
    expect(() =>
      deterministicZip([
        { name: 'index.js', data: a },
        { name: 'index.js', data: b },
      ]),
    ).toThrow('index.js is listed twice');
  });
});
