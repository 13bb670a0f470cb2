// Strict JSON parsing for untrusted files: invalid UTF-8 and syntax errors become one-line errors
// naming the file and the JSON path where parsing stopped.
import { StellaError, jsonPath } from '../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeUtf8(bytes: Uint8Array, file?: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    throw new StellaError('UTF8_INVALID', `invalid UTF-8 at byte ${offset}`, { file, path: '$' });
  }
}

export function parseJsonText(text: string, file?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : text.length;
    const { line, col } = lineCol(text, pos);
    const truncated = pos >= text.trimEnd().length || /end of JSON input|Unterminated/.test(msg);
    const what = truncated ? 'truncated JSON (unexpected end of input)' : `malformed JSON: ${msg.replace(/^.*?: /, '').replace(/\s*\(line.*$/, '')}`;
    throw new StellaError('JSON_INVALID', `${what} at line ${line} column ${col}`, {
      file,
      path: pathAtOffset(text, pos),
    });
  }
}

export function parseJsonBytes(bytes: Uint8Array, file?: string): unknown {
  return parseJsonText(decodeUtf8(bytes, file), file);
}

function lineCol(text: string, pos: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, col: pos - last };
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    try {
      utf8.decode(bytes.subarray(0, i + 1));
    } catch {
      // A truncated multi-byte sequence at i is only invalid if later bytes don't complete it.
      let ok = false;
      for (let j = i + 1; j < Math.min(bytes.length, i + 4); j++) {
        try {
          utf8.decode(bytes.subarray(0, j + 1));
          ok = true;
          i = j;
          break;
        } catch {
          /* keep looking */
        }
      }
      if (!ok) return i;
    }
  }
  return bytes.length;
}

/**
 * The JSON path of the value being read at `offset`: a small tokenizer over the prefix that tracks
 * object keys and array indices. Used only on the error path.
 */
export function pathAtOffset(text: string, offset: number): string {
  type Frame = { kind: 'obj'; key: string | null; expectKey: boolean } | { kind: 'arr'; index: number };
  const stack: Frame[] = [];
  let i = 0;
  const end = Math.min(offset, text.length);
  while (i < end) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.kind === 'obj' && top.expectKey) {
        try {
          top.key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          top.key = text.slice(i + 1, j);
        }
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === '{') stack.push({ kind: 'obj', key: null, expectKey: true });
    else if (c === '[') stack.push({ kind: 'arr', index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'arr') top.index++;
      else if (top?.kind === 'obj') top.expectKey = true;
    }
    i++;
  }
  const segs: Array<string | number> = [];
  for (const f of stack) {
    if (f.kind === 'arr') segs.push(f.index);
    else if (f.key !== null) segs.push(f.key);
  }
  return jsonPath(segs);
}
