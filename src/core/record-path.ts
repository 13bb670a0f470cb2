// The one rule for paths a record names (artifact paths in replay.json / outputs.json): relative,
// `/`-separated, no empty, `.` or `..` segment, no backslash, NUL or drive letter. Pure: the fs adapter's
// readRecordFile applies it before opening anything, so diff, explain, index, workstation and repro
// all refuse the same paths.
import { StellaError, type ErrorPlace } from './errors.js';

/** The path's segments, or a RECORD_INVALID error saying why it is refused. */
export function checkRecordPath(rel: unknown, place: ErrorPlace = {}): string[] {
  const refuse = (why: string): never => {
    throw new StellaError('RECORD_INVALID', `artifact path ${JSON.stringify(rel)} ${why}; a record names its files relative to its own directory`, place);
  };
  if (typeof rel !== 'string' || rel === '') return refuse('is not a non-empty string');
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) return refuse('is absolute');
  if (rel.includes('\\') || rel.includes('\0')) return refuse('contains a backslash or NUL');
  const segs = rel.split('/');
  if (segs.some((s) => s === '..')) return refuse("escapes the record (a '..' segment)");
  if (segs.some((s) => s === '' || s === '.')) return refuse('has an empty or `.` segment');
  return segs;
}

/** True when checkRecordPath would accept rel. */
export function isSafeRecordPath(rel: unknown): boolean {
  try {
    checkRecordPath(rel);
    return true;
  } catch {
    return false;
  }
}
