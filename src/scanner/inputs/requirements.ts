// Pinned requirements.txt: `name[extras]==version ; markers  # comment`. Only exact pins say what is
// installed; ranges, URLs, editable installs and `-r`/`-c` includes are skipped with a note (an
// include is another file the user can scan directly).
import { purlFor } from '../purl.js';
import type { ScanPackage } from '../types.js';
import { badInput, dedupePackages, textOf, type InputFile, type ParsedInput } from './common.js';

const REQ = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(===?|~=|!=|<=|>=|<|>)?\s*([^\s;,]*)\s*(,[^;]*)?(;.*)?$/;

export function parseRequirements(file: InputFile): ParsedInput {
  const lines = textOf(file).split('\n');
  const pkgs: ScanPackage[] = [];
  const notes: string[] = [];
  let unpinned = 0;
  for (let idx = 0; idx < lines.length; idx++) {
    const lineNo = idx + 1;
    let text = lines[idx];
    // Backslash continuations join physical lines into one logical requirement.
    while (/\\\s*$/.test(text) && idx + 1 < lines.length) text = text.replace(/\\\s*$/, ' ') + lines[++idx];
    text = text.replace(/(^|\s)#.*$/, '').replace(/--hash=\S+/g, '').trim();
    if (!text) continue;
    if (text.startsWith('-')) {
      const opt = text.split(/[\s=]/)[0];
      if (opt === '-r' || opt === '--requirement' || opt === '-c' || opt === '--constraint') {
        notes.push(`${file.name}:${lineNo}: ${text} ignored (scan the included file itself)`);
      } else if (opt === '-e' || opt === '--editable') {
        notes.push(`${file.name}:${lineNo}: editable install ignored`);
      }
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || / @ /.test(text)) {
      notes.push(`${file.name}:${lineNo}: direct URL requirement ignored`);
      continue;
    }
    const m = REQ.exec(text);
    if (!m) throw badInput(`not a requirement: ${JSON.stringify(text.slice(0, 60))}`, file.name, lineNo);
    const [, name, , op, version, more] = m;
    if ((op === '==' || op === '===') && version && !more && !version.includes('*')) {
      pkgs.push({ ecosystem: 'PyPI', name, version, purl: purlFor('PyPI', name, version), location: `${file.name}:${lineNo}` });
    } else unpinned++;
  }
  if (unpinned) notes.push(`${file.name}: ${unpinned} requirement(s) without an exact == pin were not scanned`);
  return { packages: dedupePackages(pkgs), notes };
}
