// go.mod (+ go.sum): `require` lines and blocks (`// indirect` included), with `replace` directives
// applied — a replaced module is scanned as its replacement; a replacement by a local path is the
// project's own code and is dropped. go.sum, when present, is checked for the selected versions: a
// required module missing from it means the go.mod was edited by hand and is noted.
import { purlFor } from '../purl.js';
import type { ScanPackage } from '../types.js';
import { badInput, dedupePackages, textOf, type InputFile, type ParsedInput } from './common.js';

interface Req {
  path: string;
  version: string;
  line: number;
}

function stripComment(s: string): string {
  const i = s.indexOf('//');
  return (i >= 0 ? s.slice(0, i) : s).trim();
}

function unquote(s: string): string {
  return s.startsWith('"') && s.endsWith('"') ? (JSON.parse(s) as string) : s.startsWith('`') && s.endsWith('`') ? s.slice(1, -1) : s;
}

export function parseGoMod(file: InputFile, goSum?: InputFile): ParsedInput {
  const lines = textOf(file).split('\n');
  const reqs: Req[] = [];
  const replaces: Array<{ from: string; fromVersion: string | null; to: string; toVersion: string | null; line: number }> = [];
  let block: string | null = null;
  let sawModule = false;
  const directive = (verb: string, args: string, lineNo: number): void => {
    const parts = stripComment(args).split(/\s+/).filter(Boolean).map(unquote);
    if (verb === 'module') sawModule = true;
    else if (verb === 'require') {
      if (parts.length !== 2) throw badInput(`require needs "module version", found ${JSON.stringify(args.trim())}`, file.name, lineNo);
      reqs.push({ path: parts[0], version: parts[1], line: lineNo });
    } else if (verb === 'replace') {
      const arrow = parts.indexOf('=>');
      if (arrow < 1 || arrow > 2 || parts.length - arrow - 1 < 1 || parts.length - arrow - 1 > 2) {
        throw badInput(`replace needs "module [version] => target [version]"`, file.name, lineNo);
      }
      replaces.push({ from: parts[0], fromVersion: arrow === 2 ? parts[1] : null, to: parts[arrow + 1], toVersion: parts[arrow + 2] ?? null, line: lineNo });
    }
  };
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const text = raw.trim();
    if (!text || text.startsWith('//')) return;
    if (block) {
      if (text === ')') block = null;
      else directive(block, text, lineNo);
      return;
    }
    const m = /^(module|go|toolchain|require|replace|exclude|retract|godebug)\b\s*(.*)$/.exec(text);
    if (!m) throw badInput(`unknown go.mod directive ${JSON.stringify(text.split(/\s/)[0])}`, file.name, lineNo);
    const [, verb, rest] = m;
    if (stripComment(rest) === '(') block = verb;
    else directive(verb, rest, lineNo);
  });
  if (block) throw badInput(`unterminated ${block} ( block`, file.name, lines.length);
  if (!sawModule) throw badInput('no module directive', file.name, 1);

  const notes: string[] = [];
  const pkgs: ScanPackage[] = [];
  let local = 0;
  for (const r of reqs) {
    const rep = replaces.find((x) => x.from === r.path && (x.fromVersion === null || x.fromVersion === r.version));
    let path = r.path;
    let version = r.version;
    if (rep) {
      if (rep.toVersion === null) {
        local++;
        continue;
      }
      path = rep.to;
      version = rep.toVersion;
    }
    pkgs.push({ ecosystem: 'Go', name: path, version, purl: purlFor('Go', path, version), location: `${file.name}:${r.line}` });
  }
  if (local) notes.push(`${file.name}: ${local} module(s) replaced by local directories were not scanned`);
  if (goSum) {
    const sums = new Set<string>();
    textOf(goSum).split('\n').forEach((l, idx) => {
      const t = l.trim();
      if (!t) return;
      const f = t.split(/\s+/);
      if (f.length !== 3 || !f[2].startsWith('h1:')) throw badInput('expected "module version h1:hash"', goSum.name, idx + 1);
      sums.add(`${f[0]} ${f[1].replace(/\/go\.mod$/, '')}`);
    });
    const missing = pkgs.filter((p) => !sums.has(`${p.name} ${p.version}`)).length;
    if (missing) notes.push(`${goSum.name}: ${missing} required module version(s) have no checksum`);
  }
  return { packages: dedupePackages(pkgs), notes };
}
