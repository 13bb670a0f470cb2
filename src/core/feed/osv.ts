// The OSV record shapes a feed bundle holds (OSV schema 1.x), shared by the core's feed and classify
// modules and the scanner.
/** One OSV record from a feed bundle, with where it lives in the bundle. */
export interface OsvRecordEntry {
  /** Path inside the bundle, e.g. `feeds/ghsa/npm/GHSA-xxxx.json`. */
  path: string;
  /** `sha256:` of the record file's bytes in the bundle. */
  sha256: string;
  /** The OSV record as parsed JSON (OSV schema 1.x). */
  record: OsvRecord;
}

export interface OsvRecord {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  related?: string[];
  summary?: string;
  details?: string;
  severity?: Array<{ type: string; score: string }>;
  affected?: Array<{
    package?: { ecosystem: string; name: string; purl?: string };
    severity?: Array<{ type: string; score: string }>;
    ranges?: Array<{
      type: 'SEMVER' | 'ECOSYSTEM' | 'GIT' | string;
      repo?: string;
      events: Array<{ introduced?: string; fixed?: string; last_affected?: string; limit?: string }>;
      database_specific?: unknown;
    }>;
    versions?: string[];
    ecosystem_specific?: unknown;
    database_specific?: unknown;
  }>;
  references?: Array<{ type: string; url: string }>;
  database_specific?: unknown;
}
