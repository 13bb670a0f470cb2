// Types shared by the reference scanner's stages: inputs → packages → match → artifacts.

/**
 * OSV ecosystem names as they appear in OSV records (`npm`, `PyPI`, `Go`, `crates.io`, `Maven`, …), OS
 * ecosystems with their release (`Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.19`, `AlmaLinux:9`).
 */
export type Ecosystem = string;

/** One package found in the scan input. */
export interface ScanPackage {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  /** Package URL (purl spec), e.g. `pkg:npm/%40scope/name@1.2.3`. */
  purl: string;
  /** Where it was found, e.g. `package-lock.json` or `sbom.cdx.json#/components/12`. */
  location: string;
  /**
   * OS packages: the source package OSV keys advisories by (dpkg `Source:`, apk origin `o:`, the name of
   * the rpm's source rpm). Absent: the package matches by its own name.
   */
  sourceName?: string;
  /**
   * The source package's version when it differs from the binary's (dpkg `Source: foo (1.2-3)`);
   * compared against the records instead of `version`. Only read when `sourceName` is set.
   */
  sourceVersion?: string;
  /** purls of direct dependencies, when the input records a dependency graph. */
  dependsOn?: string[];
  licenses?: string[];
  /** Image inputs: diff_id of the layer the evidence file came from (`location` is `<diff_id>:<path>`). */
  layer?: string;
}

export type { OsvRecord, OsvRecordEntry } from '../core/feed/osv.js';
