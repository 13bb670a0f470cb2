// Canonicalization core (SPEC §1.3): RFC 8785 bytes, the versioned rules table, normalize + hash.
export { canonicalBytes, canonicalString, canonicalDigest, sha256Digest, compareCodeUnits, unserializableError } from './jcs.js';
export { CANONICALIZER_VERSION, RULES, RULES_DIGEST, type SchemaRules } from './rules.js';
export {
  normalizeArtifact,
  canonicalizeArtifact,
  canonicalArtifactDigest,
  canonicalizeArtifactBytes,
  canonicalizeArtifactBytesViaParse,
  type CanonicalOfBytes,
  detectSchema,
  resolveSchema,
  rawDigest,
  SCHEMA_ALIASES,
  type Canonical,
  type SchemaChoice,
} from './normalize.js';
export { canonicalFromBytes, type FastCanonical, type FastSchema } from './bytes.js';
