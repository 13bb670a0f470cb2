// OS package inventories: the dpkg status database (`var/lib/dpkg/status`, and the one-file-per-package
// `var/lib/dpkg/status.d/*` distroless images carry), the apk installed database
// (`lib/apk/db/installed`) and the rpm sqlite database (`var/lib/rpm/rpmdb.sqlite`). Pure: bytes and
// the image's os-release in, ScanPackage[] out. Each package carries the source package it was built
// from (dpkg `Source:`, apk origin `o:`, rpm SOURCERPM), which is what OS advisories are keyed by.
import { compareCodeUnits } from '../../core/canonical/index.js';
import { formatPurl } from '../purl.js';
import type { ScanPackage } from '../types.js';
import { badInput, textOf, type InputFile, type ParsedInput } from './common.js';
import { ECOSYSTEM_WITHOUT_OS_RELEASE, distroQualifier, osvEcosystem, purlNamespace, type OsRelease } from './os-release.js';
import { readRpmHeader } from './rpm-header.js';
import { readTableBlobs } from './sqlite-read.js';

export type OsPackageKind = 'deb' | 'apk' | 'rpm';

/** Where each inventory lives in an image (relative to the root, as layer tars name them). */
export const OS_INVENTORY_PATHS = {
  dpkgStatus: 'var/lib/dpkg/status',
  dpkgStatusDir: 'var/lib/dpkg/status.d/',
  apkInstalled: 'lib/apk/db/installed',
  rpmSqlite: 'var/lib/rpm/rpmdb.sqlite',
  rpmSqliteAlt: 'usr/lib/sysimage/rpm/rpmdb.sqlite',
} as const;

/** Is this image path an OS inventory file the scanner reads? */
export function isOsInventoryPath(p: string): OsPackageKind | null {
  if (p === OS_INVENTORY_PATHS.dpkgStatus) return 'deb';
  if (p.startsWith(OS_INVENTORY_PATHS.dpkgStatusDir)) {
    const base = p.slice(OS_INVENTORY_PATHS.dpkgStatusDir.length);
    // status.d holds `<pkg>` paragraphs and `<pkg>.md5sums` checksum lists; only the former describe packages.
    return base && !base.includes('/') && !base.endsWith('.md5sums') ? 'deb' : null;
  }
  if (p === OS_INVENTORY_PATHS.apkInstalled) return 'apk';
  if (p === OS_INVENTORY_PATHS.rpmSqlite || p === OS_INVENTORY_PATHS.rpmSqliteAlt) return 'rpm';
  return null;
}

export interface OsContext {
  os: OsRelease | null;
  /** Evidence prefix: the layer diff_id the file came from (`sha256:…`), '' for a bare file input. */
  layer?: string;
}

function ecosystemFor(kind: OsPackageKind, ctx: OsContext): string {
  return ctx.os ? osvEcosystem(ctx.os) || ECOSYSTEM_WITHOUT_OS_RELEASE[kind] : ECOSYSTEM_WITHOUT_OS_RELEASE[kind];
}

function osPackage(
  kind: OsPackageKind,
  ctx: OsContext,
  file: InputFile,
  f: { name: string; version: string; arch: string; sourceName: string; sourceVersion: string; purlVersion?: string; epoch?: string; licenses?: string[] },
): ScanPackage {
  // The same qualifiers as purl.ts's osPurlFor (h15v): arch, distro, epoch unless 0, upstream = the
  // source package when it is not the binary's own name.
  const qualifiers: Record<string, string> = { arch: f.arch, distro: distroQualifier(ctx.os) };
  if (f.epoch && f.epoch !== '0') qualifiers.epoch = f.epoch;
  if (f.sourceName && f.sourceName !== f.name) qualifiers.upstream = f.sourceName;
  const purl = formatPurl({ type: kind, namespace: purlNamespace(ctx.os, kind), name: f.name, version: f.purlVersion ?? f.version, qualifiers, subpath: null });
  return {
    ecosystem: ecosystemFor(kind, ctx),
    name: f.name,
    version: f.version,
    purl,
    location: ctx.layer ? `${ctx.layer}:${file.name}` : file.name,
    sourceName: f.sourceName || f.name,
    sourceVersion: f.sourceVersion || f.version,
    ...(ctx.layer ? { layer: ctx.layer } : {}),
    ...(f.licenses?.length ? { licenses: f.licenses } : {}),
  };
}

/** RFC 822-style paragraphs (dpkg status, one per package): continuation lines start with a blank. */
function paragraphs(text: string): Array<{ line: number; fields: Map<string, string> }> {
  const out: Array<{ line: number; fields: Map<string, string> }> = [];
  let cur: Map<string, string> | null = null;
  let lastKey = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].replace(/\r$/, '');
    if (l.trim() === '') {
      cur = null;
      continue;
    }
    if (l[0] === ' ' || l[0] === '\t') {
      if (cur && lastKey) cur.set(lastKey, `${cur.get(lastKey)}\n${l.slice(1)}`);
      continue;
    }
    const colon = l.indexOf(':');
    if (colon <= 0) continue;
    if (!cur) {
      cur = new Map();
      out.push({ line: i + 1, fields: cur });
    }
    lastKey = l.slice(0, colon);
    cur.set(lastKey, l.slice(colon + 1).trim());
  }
  return out;
}

/**
 * dpkg status (or one status.d file). A package is reported only when its Status says it is installed
 * (`<want> ok installed`: `install ok installed`, also `hold ok installed`); `deinstall ok config-files`,
 * `purge ok not-installed`, half-installed or unpacked packages are not. status.d files carry no Status
 * line (the image tooling only writes installed packages there), so none there means installed.
 */
export function parseDpkgStatus(file: InputFile, ctx: OsContext, opts: { statusRequired?: boolean } = {}): ParsedInput {
  const statusRequired = opts.statusRequired ?? true;
  const packages: ScanPackage[] = [];
  const notes: string[] = [];
  let skipped = 0;
  for (const { line, fields } of paragraphs(textOf(file))) {
    const name = fields.get('Package');
    const version = fields.get('Version');
    if (!name) throw badInput('a dpkg status paragraph has no Package field', file.name, line);
    const status = fields.get('Status');
    if (status !== undefined || statusRequired) {
      const words = (status ?? '').split(/\s+/);
      if (words.length !== 3 || words[1] !== 'ok' || words[2] !== 'installed') {
        skipped++;
        continue;
      }
    }
    if (!version) throw badInput(`dpkg package ${JSON.stringify(name)} is installed but has no Version`, file.name, line);
    // `Source: openssl` or `Source: openssl (1.1.1-1ubuntu2.1~18.04.5)` when the versions differ.
    const src = /^(\S+)(?:\s+\((\S+)\))?$/.exec(fields.get('Source') ?? '');
    packages.push(
      osPackage('deb', ctx, file, {
        name,
        version,
        arch: fields.get('Architecture') ?? '',
        sourceName: src?.[1] ?? name,
        sourceVersion: src?.[2] ?? version,
      }),
    );
  }
  if (skipped) notes.push(`${file.name}: ${skipped} dpkg package(s) not installed (removed, config files only, or half-installed): not reported`);
  return { packages: packages.sort(cmp), notes };
}

/** The apk installed database: `X:value` lines, one blank-line-separated block per package. */
export function parseApkInstalled(file: InputFile, ctx: OsContext): ParsedInput {
  const packages: ScanPackage[] = [];
  const lines = textOf(file).split('\n');
  let cur: Record<string, string> = {};
  let seen = false;
  let start = 1;
  const flush = (line: number) => {
    if (!seen) return;
    if (!cur.P || !cur.V) throw badInput('an apk installed-database entry has no P: (name) or V: (version) line', file.name, start);
    packages.push(
      osPackage('apk', ctx, file, {
        name: cur.P,
        version: cur.V,
        arch: cur.A ?? '',
        sourceName: cur.o ?? cur.P,
        sourceVersion: cur.V,
        licenses: cur.L ? [cur.L] : [],
      }),
    );
    cur = {};
    seen = false;
    start = line + 1;
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].replace(/\r$/, '');
    if (l === '') {
      flush(i + 1);
      continue;
    }
    if (l.length >= 2 && l[1] === ':') {
      const k = l[0];
      // Repeated keys (F:, R:, Z:, a:, M:) describe files; only the first of the package fields matters.
      if (!seen) start = i + 1;
      seen = true;
      if ('PVAoL'.includes(k) && cur[k] === undefined) cur[k] = l.slice(2);
    }
  }
  flush(lines.length);
  return { packages: packages.sort(cmp), notes: [] };
}

/** `openssl-1.1.1k-7.cm2.src.rpm` → `openssl` (name is everything before the last two `-` fields). */
export function sourceRpmName(srpm: string): string {
  const base = srpm.replace(/\.(no)?src\.rpm$/, '');
  const parts = base.split('-');
  return parts.length >= 3 ? parts.slice(0, -2).join('-') : base;
}

/**
 * The rpm sqlite database: every row of the Packages table is one package's header blob. The
 * gpg-pubkey pseudo-packages (imported signing keys, no source rpm) are not software and are left out.
 */
export function parseRpmSqlite(file: InputFile, ctx: OsContext): ParsedInput {
  const packages: ScanPackage[] = [];
  let keys = 0;
  for (const { rowid, blob } of readTableBlobs(file.bytes, 'Packages', file.name)) {
    const h = readRpmHeader(blob, file.name, `Packages row ${rowid}`);
    if (h.name === 'gpg-pubkey') {
      keys++;
      continue;
    }
    const vr = h.release ? `${h.version}-${h.release}` : h.version;
    packages.push(
      osPackage('rpm', ctx, file, {
        name: h.name,
        version: h.epoch !== null ? `${h.epoch}:${vr}` : vr,
        purlVersion: vr,
        ...(h.epoch !== null ? { epoch: String(h.epoch) } : {}),
        arch: h.arch,
        sourceName: h.sourceRpm ? sourceRpmName(h.sourceRpm) : h.name,
        sourceVersion: h.epoch !== null ? `${h.epoch}:${vr}` : vr,
        licenses: h.license ? [h.license] : [],
      }),
    );
  }
  return { packages: packages.sort(cmp), notes: keys ? [`${file.name}: ${keys} gpg-pubkey entr${keys === 1 ? 'y' : 'ies'} (signing keys) not reported`] : [] };
}

function cmp(a: ScanPackage, b: ScanPackage): number {
  return compareCodeUnits(a.purl, b.purl) || compareCodeUnits(a.location, b.location);
}

export function parseOsInventory(kind: OsPackageKind, file: InputFile, ctx: OsContext, opts: { statusDir?: boolean } = {}): ParsedInput {
  if (kind === 'deb') return parseDpkgStatus(file, ctx, { statusRequired: !opts.statusDir });
  if (kind === 'apk') return parseApkInstalled(file, ctx);
  return parseRpmSqlite(file, ctx);
}
