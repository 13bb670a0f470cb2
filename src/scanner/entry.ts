// The scanner PROCESS: what the replay container runs (`node /app/…/entry.js`) and the local executor
// spawns. Reads the mounted inputs read-only, runs the pure scanner, writes DIR/artifacts/*.json.
//   node dist/src/scanner/entry.js --manifest M.json --input PATH --feed BUNDLE.tar.zst \
//        --policy POLICY.json --out DIR
// Exit 0 on success; any error is one line on stderr and exit 2. Imports only node built-ins, the
// project's own modules, canonical-json, yaml and zstd-wasm: the image carries nothing else.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StellaError, isStellaError } from '../core/errors.js';
import { ARTIFACT_NAMES, ARTIFACT_PATHS, DIGEST_RE } from '../core/formats.js';
import { sha256Digest } from '../core/canonical/jcs.js';
import { parseJsonBytes } from '../core/json/parse.js';
import { parseManifest } from '../core/manifest/validate.js';
import { compilePolicy, type CompiledPolicy } from '../core/policy/policy.js';
import { readBytes, writeFileAtomic } from '../adapters/fs.js';
import { openFeedBundle } from '../adapters/feed-bundle.js';
import { loadStoredInput } from './inputs/load.js';
import { MAX_ARCHIVE_FILE_BYTES } from './inputs/image.js';
import { faultsFromFlags } from './faults.js';
import { serializeArtifacts } from './run.js';
import { parseRelease, RELEASE_FILE, scanUnder, type ScannerRelease } from './runtime.js';

const POLICY_MAX_BYTES = 16 * 1024 * 1024;

/** A pinned digest must match the bytes mounted for it; an unpinned one ("latest") cannot be checked. */
function checkPinned(bytes: Uint8Array, pinned: string, file: string, what: string, field: string): void {
  if (!DIGEST_RE.test(pinned)) return;
  const actual = sha256Digest(bytes);
  if (actual !== pinned) {
    throw new StellaError('BUNDLE_DIGEST_MISMATCH', `${what} digest is ${actual} but the manifest pins ${pinned}`, { file, path: field });
  }
}

export function readPolicyBundle(file: string, pinned: string): CompiledPolicy {
  const bytes = readBytes(file, POLICY_MAX_BYTES);
  checkPinned(bytes, pinned, file, 'policy bundle', '$.policy.policy_bundle_digest');
  return compilePolicy(parseJsonBytes(bytes, file), file);
}

/** The release file baked into an image beside package.json (/app/scanner-release.json); none on a host checkout. */
function readRelease(): ScannerRelease | null {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..', RELEASE_FILE);
  return existsSync(file) ? parseRelease(parseJsonBytes(readBytes(file, 65536), file), file) : null;
}

export async function scannerMain(argv: string[], stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        manifest: { type: 'string' },
        input: { type: 'string' },
        feed: { type: 'string' },
        policy: { type: 'string' },
        out: { type: 'string' },
        // The recorded runtime a reproduction re-creates: the CPU count the workers see, the fault seed.
        cpus: { type: 'string' },
        'fault-seed': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    for (const k of ['manifest', 'input', 'feed', 'policy', 'out'] as const) {
      if (!values[k]) throw new StellaError('USAGE', `missing --${k} (usage: entry.js --manifest M --input PATH --feed BUNDLE --policy POLICY --out DIR)`);
    }
    const manifestFile = values.manifest!;
    const manifest = parseManifest(readBytes(manifestFile), manifestFile);
    const faults = faultsFromFlags(manifest.scanner.flags, manifestFile);

    const inputFile = values.input!;
    const image = manifest.input.type === 'oci_archive';
    const inputBytes = readBytes(inputFile, image ? MAX_ARCHIVE_FILE_BYTES : undefined);
    // An image is pinned twice: the archive's bytes, and the image config digest inside it.
    if (image && manifest.input.archive_digest) checkPinned(inputBytes, manifest.input.archive_digest, inputFile, 'input archive', '$.input.archive_digest');
    else checkPinned(inputBytes, manifest.input.digest, inputFile, 'input', '$.input.digest');
    const input = loadStoredInput(inputFile, manifest.input.type);
    if (image && input.image && DIGEST_RE.test(manifest.input.digest) && input.image.configDigest !== manifest.input.digest) {
      throw new StellaError('BUNDLE_DIGEST_MISMATCH', `image config digest is ${input.image.configDigest} but the manifest pins ${manifest.input.digest}`, { file: inputFile, path: '$.input.digest' });
    }

    const feedFile = values.feed!;
    const pinnedFeed = manifest.feeds.vuln_feed_bundle_digest;
    const feed = await openFeedBundle(readBytes(feedFile), { file: feedFile, ...(DIGEST_RE.test(pinnedFeed) ? { expectedDigest: pinnedFeed } : {}) });
    const policy = readPolicyBundle(values.policy!, manifest.policy.policy_bundle_digest);

    const cpus = values.cpus === undefined ? availableParallelism() : Number(values.cpus);
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 9999) throw new StellaError('USAGE', `--cpus ${values.cpus}: expected a CPU count from 1 to 9999`);
    // The only places the scanner touches nondeterminism, and only when a fault switch asks for it.
    const artifacts = scanUnder(
      { packages: input.packages, records: feed.records, policy, manifest, faults },
      {
        timeZone: process.env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone,
        cpus,
        release: readRelease(),
        faultSeed: values['fault-seed'] ?? null,
        wallclock: () => new Date(),
        randomUUID,
      },
    );
    const bytes = serializeArtifacts(artifacts);
    for (const n of ARTIFACT_NAMES) writeFileAtomic(path.join(values.out!, ARTIFACT_PATHS[n]), bytes[n]);
    return 0;
  } catch (e) {
    const line = isStellaError(e) ? e.oneLine() : `internal error: ${(e as Error)?.message ?? String(e)}`;
    stderr.write(`stella-scanner: ${line}\n`);
    return 2;
  }
}

const invokedAs = process.argv[1] ? pathToFileURL(path.resolve(process.argv[1])).href : '';
if (import.meta.url === invokedAs) {
  process.exitCode = await scannerMain(process.argv.slice(2));
}
