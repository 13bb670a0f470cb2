// The raw canonical-text view: one line per leaf of the normalized artifact (`$.path = json`), so a
// unified diff of two artifacts reads like a diff of canonical JSON without giant single lines.
import { createTwoFilesPatch } from 'diff';
import { canonicalString, compareCodeUnits, normalizeArtifact } from '../core/canonical/index.js';
import { jsonPath } from '../core/errors.js';
import type { ArtifactSchema } from '../core/formats.js';

export function canonicalLines(schema: ArtifactSchema, doc: unknown): string {
  const lines: string[] = [];
  const segs: Array<string | number> = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v) && v.length) {
      v.forEach((x, i) => {
        segs.push(i);
        walk(x);
        segs.pop();
      });
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
      for (const k of Object.keys(v).sort(compareCodeUnits)) {
        segs.push(k);
        walk((v as Record<string, unknown>)[k]);
        segs.pop();
      }
    } else {
      lines.push(`${jsonPath(segs)} = ${canonicalString(v)}`);
    }
  };
  walk(normalizeArtifact(schema, doc));
  return lines.join('\n') + '\n';
}

/** Unified diff of the canonical text of two artifacts; empty string when they are the same. */
export function canonicalTextDiff(schema: ArtifactSchema, aName: string, aDoc: unknown, bName: string, bDoc: unknown, context = 3): string {
  const x = canonicalLines(schema, aDoc);
  const y = canonicalLines(schema, bDoc);
  if (x === y) return '';
  return createTwoFilesPatch(aName, bName, x, y, undefined, undefined, { context });
}
