// Typed errors: one code union, a human message that says what to do, and the place (file + JSON path)
// the problem was found. The CLI maps codes to exit codes; nothing below it prints.

export type StellaErrorCode =
  | 'USAGE'
  | 'JSON_INVALID'
  | 'UTF8_INVALID'
  | 'SCHEMA_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_VERSION_UNSUPPORTED'
  | 'SIGNATURE_INVALID'
  | 'DIGEST_INVALID'
  | 'BLOB_MISSING'
  | 'BLOB_CORRUPT'
  | 'BUNDLE_DIGEST_MISMATCH'
  | 'BUNDLE_UNSAFE'
  | 'INPUT_TOO_LARGE'
  | 'INPUT_UNSUPPORTED'
  | 'RECORD_INVALID'
  | 'RECORDS_UNRELATED'
  | 'ENGINE_UNREACHABLE'
  | 'IMAGE_MISSING'
  | 'REPLAY_TIMEOUT'
  | 'NOT_FOUND'
  | 'IO';

export interface ErrorPlace {
  /** The file the bad input came from, as the user named it. */
  file?: string;
  /** JSONPath of the offending value, e.g. `$.feeds.vuln_feed_bundle_digest`. */
  path?: string;
}

export class StellaError extends Error {
  readonly code: StellaErrorCode;
  readonly file?: string;
  readonly path?: string;

  constructor(code: StellaErrorCode, message: string, place: ErrorPlace = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StellaError';
    this.code = code;
    this.file = place.file;
    this.path = place.path;
  }

  /** One line: `file: $.path: message`. */
  oneLine(): string {
    const where = [this.file, this.path].filter(Boolean).join(': ');
    const text = this.message.replace(/\s*\n\s*/g, ' ');
    return where ? `${where}: ${text}` : text;
  }

  withFile(file: string): StellaError {
    if (this.file) return this;
    return new StellaError(this.code, this.message, { file, path: this.path }, { cause: this.cause });
  }
}

export function isStellaError(e: unknown): e is StellaError {
  return e instanceof StellaError;
}

/** Build a JSONPath segment list into `$.a.b[3]["odd key"]`. */
export function jsonPath(segments: ReadonlyArray<string | number>): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** One line for a message bar or a record: a StellaError keeps the file and JSON path it names. */
export function errorText(e: unknown): string {
  return isStellaError(e) ? e.oneLine() : (e as Error)?.message ?? String(e);
}
