// outputs.json (SPEC §1.1): per artifact its canonical and raw hashes, schema and size. One function,
// used by scans, replays and canaries alike, so originals and replays always hash the same way.
import { ARTIFACT_NAMES, ARTIFACT_PATHS, ARTIFACT_SCHEMAS, type ArtifactName, type OutputEntry, type Outputs } from '../formats.js';
import { canonicalizeArtifactBytes, rawDigest } from '../canonical/index.js';

/** outputs.json for the four artifacts' bytes: canonical and raw hashes, schema, size. */
export function computeOutputs(artifactBytes: Record<ArtifactName, Uint8Array>): Outputs {
  const out = {} as Outputs;
  for (const n of ARTIFACT_NAMES) {
    const file = ARTIFACT_PATHS[n];
    const entry: OutputEntry = {
      path: file,
      // One pass over the bytes (no parse → objects → stringify); bad bytes fail naming file and path.
      canonical_sha256: canonicalizeArtifactBytes(ARTIFACT_SCHEMAS[n], artifactBytes[n], file).digest,
      raw_sha256: rawDigest(artifactBytes[n]),
      schema: ARTIFACT_SCHEMAS[n],
      bytes: artifactBytes[n].byteLength,
    };
    out[n] = entry;
  }
  return out;
}
