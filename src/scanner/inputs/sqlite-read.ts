// A read-only reader of the SQLite 3 file format (https://www.sqlite.org/fileformat2.html), just enough
// to list the rows of one table: the header, the schema table on page 1, table b-trees (interior and
// leaf pages), record decoding and overflow chains. The rpm database of Fedora/RHEL/Mariner images is
// such a file. Written here rather than using better-sqlite3 because the scanner also runs inside the
// replay image, which carries only pure-JS modules (a native addon would need its own ABI-matched
// binary and libraries in the image), and because the scanner works on bytes held in memory, never on
// a file an extractor wrote. Every page number and offset is bounds-checked: a corrupt database is an
// error naming the file, never a crash or a loop (visited pages are tracked).
import { StellaError } from '../../core/errors.js';

export type SqlValue = null | number | bigint | string | Uint8Array;

export interface SqlRow {
  rowid: number;
  values: SqlValue[];
}

class Db {
  readonly pageSize: number;
  readonly usable: number;
  readonly pageCount: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    if (bytes.length < 100 || Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('latin1') !== 'SQLite format 3\0') {
      throw this.bad('not an SQLite 3 database (bad header)');
    }
    const ps = (bytes[16] << 8) | bytes[17];
    this.pageSize = ps === 1 ? 65536 : ps;
    if (this.pageSize < 512 || (this.pageSize & (this.pageSize - 1)) !== 0) throw this.bad(`bad page size ${ps}`);
    this.usable = this.pageSize - bytes[20];
    this.pageCount = Math.floor(bytes.length / this.pageSize);
  }

  bad(why: string): StellaError {
    return new StellaError('INPUT_UNSUPPORTED', `sqlite database: ${why}`, { file: this.file, path: '$' });
  }

  page(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 1 || n > this.pageCount) throw this.bad(`page ${n} is out of range (the file has ${this.pageCount})`);
    return this.bytes.subarray((n - 1) * this.pageSize, n * this.pageSize);
  }

  /** Rows of the table b-tree rooted at page `root`, in rowid order. */
  *rows(root: number): Generator<SqlRow> {
    const seen = new Set<number>();
    const stack: number[] = [root];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) throw this.bad(`page ${n} is reached twice (a cycle in the b-tree)`);
      seen.add(n);
      const pg = this.page(n);
      const h = n === 1 ? 100 : 0;
      const type = pg[h];
      const cells = u16(pg, h + 3);
      if (type === 0x05) {
        // Interior table page: cells hold (left child, key); the right-most child follows the header.
        const children: number[] = [];
        for (let i = 0; i < cells; i++) children.push(u32(pg, u16(pg, h + 12 + 2 * i)));
        children.push(u32(pg, h + 8));
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
      } else if (type === 0x0d) {
        for (let i = 0; i < cells; i++) yield this.leafCell(pg, u16(pg, h + 8 + 2 * i), n);
      } else {
        throw this.bad(`page ${n} is not a table b-tree page (type ${type})`);
      }
    }
  }

  private leafCell(pg: Uint8Array, off: number, pageNo: number): SqlRow {
    if (off >= pg.length) throw this.bad(`cell offset ${off} on page ${pageNo} is past the page`);
    const [size, a] = varint(pg, off);
    const [rowid, b] = varint(pg, off + a);
    const P = Number(size);
    const start = off + a + b;
    const U = this.usable;
    const X = U - 35;
    let payload: Uint8Array;
    if (P <= X) {
      payload = pg.subarray(start, start + P);
    } else {
      const M = Math.floor(((U - 12) * 32) / 255) - 23;
      const K = M + ((P - M) % (U - 4));
      const local = K <= X ? K : M;
      const parts: Uint8Array[] = [pg.subarray(start, start + local)];
      let got = local;
      let next = u32(pg, start + local);
      const seen = new Set<number>();
      while (got < P) {
        if (next === 0 || seen.has(next)) throw this.bad(`overflow chain of row ${rowid} is broken at page ${next}`);
        seen.add(next);
        const op = this.page(next);
        const take = Math.min(U - 4, P - got);
        parts.push(op.subarray(4, 4 + take));
        got += take;
        next = u32(op, 0);
      }
      payload = Buffer.concat(parts);
    }
    if (payload.length !== P) throw this.bad(`row ${rowid} on page ${pageNo} runs past the page`);
    return { rowid: Number(rowid), values: decodeRecord(payload, this) };
  }
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

/** SQLite varint: 1–9 bytes, big-endian 7-bit groups, the ninth byte whole. */
function varint(b: Uint8Array, o: number): [bigint, number] {
  let v = 0n;
  for (let i = 0; i < 9; i++) {
    const x = b[o + i];
    if (x === undefined) return [v, i];
    if (i === 8) return [(v << 8n) | BigInt(x), 9];
    v = (v << 7n) | BigInt(x & 0x7f);
    if ((x & 0x80) === 0) return [v, i + 1];
  }
  return [v, 9];
}

function decodeRecord(p: Uint8Array, db: Db): SqlValue[] {
  const [hsize, n0] = varint(p, 0);
  const headerEnd = Number(hsize);
  if (headerEnd > p.length) throw db.bad('a record header runs past its payload');
  const types: number[] = [];
  for (let o = n0; o < headerEnd; ) {
    const [t, n] = varint(p, o);
    types.push(Number(t));
    o += n;
  }
  const out: SqlValue[] = [];
  let o = headerEnd;
  for (const t of types) {
    if (t === 0) out.push(null);
    else if (t >= 1 && t <= 6) {
      const len = [0, 1, 2, 3, 4, 6, 8][t];
      let v = 0n;
      for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(p[o + i]);
      if (p[o] & 0x80) v -= 1n << BigInt(8 * len);
      out.push(Number.isSafeInteger(Number(v)) ? Number(v) : v);
      o += len;
    } else if (t === 7) {
      out.push(Buffer.from(p.subarray(o, o + 8)).readDoubleBE(0));
      o += 8;
    } else if (t === 8 || t === 9) out.push(t - 8);
    else if (t >= 12) {
      const len = Math.floor((t - (t % 2 === 0 ? 12 : 13)) / 2);
      const v = p.subarray(o, o + len);
      if (v.length !== len) throw db.bad('a record value runs past its payload');
      out.push(t % 2 === 0 ? v : Buffer.from(v).toString('utf8'));
      o += len;
    } else throw db.bad(`reserved serial type ${t}`);
  }
  return out;
}

/** Every row of a table, in rowid order (an INTEGER PRIMARY KEY column reads as the rowid). */
export function readTable(bytes: Uint8Array, table: string, file: string): SqlRow[] {
  const db = new Db(bytes, file);
  let root = 0;
  for (const r of db.rows(1)) {
    // sqlite_schema: (type, name, tbl_name, rootpage, sql)
    if (r.values[0] === 'table' && r.values[1] === table) root = Number(r.values[3]);
  }
  if (!root) throw db.bad(`has no table ${JSON.stringify(table)}`);
  return [...db.rows(root)];
}

/** (rowid, first BLOB column) of every row of a table: the rpm `Packages` table's header blobs. */
export function readTableBlobs(bytes: Uint8Array, table: string, file: string): Array<{ rowid: number; blob: Uint8Array }> {
  return readTable(bytes, table, file).map((r) => {
    const blob = r.values.find((v): v is Uint8Array => v instanceof Uint8Array);
    if (!blob) throw new StellaError('INPUT_UNSUPPORTED', `sqlite table ${table} row ${r.rowid} has no BLOB column`, { file, path: '$' });
    return { rowid: r.rowid, blob };
  });
}
