// The one version string: stella-replay's package.json version, read once (scanner_version of every
// manifest, `generated_by` of every feed bundle).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../core/errors.js';

let cachedVersion: string | null = null;
/** scanner_version: the package version, read once from package.json beside dist/. */
export function scannerVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = path.dirname(new URL(import.meta.url).pathname);
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'stella-replay' && pkg.version) return (cachedVersion = pkg.version);
    } catch {
      /* keep walking up */
    }
    const up = path.dirname(dir);
    if (up === dir) throw new StellaError('NOT_FOUND', 'cannot find the stella-replay package.json to read the scanner version');
    dir = up;
  }
}
