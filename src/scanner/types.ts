// Types shared by the reference scanner's stages: inputs → packages → match → artifacts.

/** OSV ecosystem names as they appear in OSV records (`npm`, `PyPI`, `Go`, `crates.io`, `Maven`, …). */
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
  /** purls of direct dependencies, when the input records a dependency graph. */
  dependsOn?: string[];
  licenses?: string[];
}

export type { OsvRecord, OsvRecordEntry } from '../core/feed/osv.js';
