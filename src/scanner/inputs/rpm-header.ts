// An rpm header blob as rpmdb stores it (one per row of the sqlite Packages table, the same bytes
// `headerExport` writes): big-endian index-entry count and data length, then 16-byte index entries
// (tag, type, offset, count), then the data store. Only the tags the scanner reports are read.
// Format: rpm's lib/header.c and https://rpm-software-management.github.io/rpm/manual/format_header.html
import { StellaError } from '../../core/errors.js';

const TAG = { NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, LICENSE: 1014, ARCH: 1022, SOURCERPM: 1044 } as const;
const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_I18NSTRING = 9;

export interface RpmHeader {
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  arch: string;
  sourceRpm: string;
  license: string;
}

export function readRpmHeader(blob: Uint8Array, file: string, where: string): RpmHeader {
  const bad = (why: string) => new StellaError('INPUT_UNSUPPORTED', `rpm header (${where}): ${why}`, { file, path: '$' });
  if (blob.length < 8) throw bad('shorter than its 8-byte preamble');
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const il = v.getUint32(0);
  const dl = v.getUint32(4);
  const dataStart = 8 + il * 16;
  if (il > 0xffff || dataStart + dl > blob.length) throw bad(`index of ${il} entries and ${dl} data bytes does not fit in ${blob.length} bytes`);
  const strings = new Map<number, string>();
  let epoch: number | null = null;
  for (let i = 0; i < il; i++) {
    const e = 8 + i * 16;
    const tag = v.getUint32(e);
    const type = v.getUint32(e + 4);
    const off = v.getInt32(e + 8);
    if (tag < TAG.NAME || tag > TAG.SOURCERPM) continue;
    if (off < 0 || off >= dl) throw bad(`tag ${tag} points outside the data store`);
    const at = dataStart + off;
    if (tag === TAG.EPOCH && type === TYPE_INT32) {
      if (off + 4 > dl) throw bad('EPOCH runs past the data store');
      epoch = v.getUint32(at);
    } else if (type === TYPE_STRING || type === TYPE_I18NSTRING) {
      let end = at;
      while (end < dataStart + dl && blob[end] !== 0) end++;
      strings.set(tag, Buffer.from(blob.buffer, blob.byteOffset + at, end - at).toString('utf8'));
    }
  }
  const name = strings.get(TAG.NAME);
  const version = strings.get(TAG.VERSION);
  if (!name || version === undefined) throw bad('no NAME or VERSION tag');
  return {
    name,
    version,
    release: strings.get(TAG.RELEASE) ?? '',
    epoch,
    arch: strings.get(TAG.ARCH) ?? '',
    sourceRpm: strings.get(TAG.SOURCERPM) ?? '',
    license: strings.get(TAG.LICENSE) ?? '',
  };
}
