// Content-derived identifiers for the emitters: never UUID4, never time.
import { canonicalBytes, sha256Digest } from '../../core/canonical/index.js';

/** sha256 hex of the canonical bytes of value. */
export function contentHex(value: unknown): string {
  return sha256Digest(canonicalBytes(value)).slice('sha256:'.length);
}

/**
 * A UUID-shaped string from a sha256 hex (RFC 9562 name-based layout: version nibble 5, variant 10xx),
 * so `urn:uuid:` fields validate while staying a pure function of content.
 */
export function uuidFromHex(hex: string): string {
  const h = hex.slice(0, 32).split('');
  h[12] = '5';
  h[16] = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}
