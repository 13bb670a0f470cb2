// Container images as scan inputs: a `docker save` archive (manifest.json + config + layer tars), an
// OCI image layout (oci-layout + index.json + blobs/sha256/…), either as a tar (optionally gzipped) or,
// via load.ts, a directory as `skopeo copy … oci:DIR` writes it. Layers are applied in order onto an
// in-memory view of the root filesystem, with whiteouts (`.wh.NAME` deletes NAME from lower layers) and
// opaque directories (`.wh..wh..opq` hides every lower-layer entry below its directory). What the view
// keeps is only what the scanner reads: OS inventories, os-release, lockfiles and every symlink (to
// resolve os-release and inventory paths inside the image root, never outside it).
//
// Bundle rules, as for feed bundles: every name is judged before use — absolute or `..` paths in the
// archive, links that leave it, devices, unknown media types and missing blobs are errors naming the
// archive and the entry; total unpacked bytes are capped. Nothing is written anywhere.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { StellaError } from '../../core/errors.js';
import { compareCodeUnits } from '../../core/canonical/index.js';
import { parseJsonBytes } from '../../core/json/parse.js';
import type { ScanPackage } from '../types.js';
import { dedupePackages, isObject, type InputFile } from './common.js';
import { isOsInventoryPath, parseOsInventory, type OsPackageKind } from './os-packages.js';
import { baseOsLabel, parseOsRelease, type OsRelease } from './os-release.js';
import { cleanTarPath, walkTar } from './tar-read.js';

/** Cap on the uncompressed bytes of one image (outer archive plus every layer). */
export const MAX_IMAGE_BYTES = 3 * 1024 * 1024 * 1024;
/** Cap on an image archive file (the most one read of a file can give). */
export const MAX_ARCHIVE_FILE_BYTES = 2 ** 31 - 1;
/** Cap on one kept file (an inventory or lockfile). */
const MAX_KEPT_FILE = 256 * 1024 * 1024;
const MAX_LINK_HOPS = 40;

export interface ImageFacts {
  /** sha256 of the image config blob: the image ID, and the manifest's input.digest. */
  configDigest: string;
  /** sha256 of each uncompressed layer tar, base first (the config's rootfs.diff_ids when they agree). */
  diffIds: string[];
  /** 'docker-save' or 'oci-layout'. */
  format: 'docker-save' | 'oci-layout';
  osRelease: OsRelease | null;
  /** labels.base_os: `debian-12`, `alpine-3.18.4`, '' without os-release. */
  baseOs: string;
}

export interface ImageScan {
  packages: ScanPackage[];
  notes: string[];
  files: Array<{ name: string; kind: string }>;
  image: ImageFacts;
}

const LAYER_TYPES: Readonly<Record<string, 'tar' | 'gzip' | 'zstd'>> = {
  'application/vnd.oci.image.layer.v1.tar': 'tar',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
};
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
const isZstd = (b: Uint8Array) => b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
const isTar = (b: Uint8Array) => b.length >= 512 && Buffer.from(b.buffer, b.byteOffset + 257, 5).toString('latin1') === 'ustar';
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Could these bytes be an image archive (a tar, or a gzipped one)? Decided by content, not name. */
export function looksLikeImageArchive(bytes: Uint8Array): boolean {
  return isTar(bytes) || isGzip(bytes);
}

class Budget {
  used = 0;
  constructor(
    readonly file: string,
    readonly max = MAX_IMAGE_BYTES,
  ) {}
  gunzip(b: Uint8Array, entry: string): Buffer {
    try {
      const out = gunzipSync(b, { maxOutputLength: Math.max(1, this.max - this.used) });
      this.take(out.length, entry);
      return out;
    } catch (e) {
      if (e instanceof StellaError) throw e;
      const code = (e as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw this.tooLarge(entry);
      throw new StellaError('BUNDLE_UNSAFE', `gzip data is corrupt or truncated (${(e as Error).message})`, { file: this.file, path: entry });
    }
  }
  take(n: number, entry: string): void {
    this.used += n;
    if (this.used > this.max) throw this.tooLarge(entry);
  }
  tooLarge(entry: string): StellaError {
    return new StellaError('INPUT_TOO_LARGE', `image unpacks to more than ${this.max} bytes; refusing to scan it`, { file: this.file, path: entry });
  }
}

/** The outer archive's files by cleaned path, with in-archive symlinks resolved (docker save links repeated layers). */
function readOuter(bytes: Uint8Array, file: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const links = new Map<string, string>();
  for (const e of walkTar(bytes, file)) {
    const p = cleanTarPath(e.name);
    if (p === null || e.name.startsWith('/')) throw unsafe(file, e.name, 'escapes the archive root');
    if (e.kind === 'dir') continue;
    if (e.kind === 'file') {
      files.set(p, e.data);
    } else if (e.kind === 'symlink' || e.kind === 'hardlink') {
      const target = e.kind === 'symlink' ? path.posix.join(path.posix.dirname(p), e.linkName) : e.linkName;
      const t = cleanTarPath(target);
      if (t === null || e.linkName.startsWith('/')) throw unsafe(file, e.name, `is a link to ${JSON.stringify(e.linkName)}, outside the archive`);
      links.set(p, t);
    } else throw unsafe(file, e.name, 'is a device, fifo or other special file');
  }
  for (const [p, t] of links) {
    let cur = t;
    for (let hop = 0; !files.has(cur); hop++) {
      const next = links.get(cur);
      if (next === undefined || hop > MAX_LINK_HOPS) throw unsafe(file, p, `is a link to ${JSON.stringify(t)}, which is not in the archive`);
      cur = next;
    }
    files.set(p, files.get(cur)!);
  }
  return files;
}

function unsafe(file: string, entry: string, why: string): StellaError {
  return new StellaError('BUNDLE_UNSAFE', `archive entry ${JSON.stringify(entry)} ${why}; refusing to scan it`, { file, path: entry });
}

function missing(file: string, entry: string, what: string, from: string): StellaError {
  return new StellaError('BUNDLE_UNSAFE', `${what} ${JSON.stringify(entry)} named by ${from} is not in the archive`, { file, path: entry });
}

function jsonEntry(files: Map<string, Uint8Array>, name: string, file: string, what: string, from: string): unknown {
  const b = files.get(name);
  if (!b) throw missing(file, name, what, from);
  return parseJsonBytes(b, `${file}:${name}`);
}

interface Descriptor {
  mediaType: string;
  digest: string;
  platform?: { os?: string; architecture?: string };
  annotations?: Record<string, string>;
}

function descriptor(v: unknown, file: string, where: string): Descriptor {
  if (!isObject(v) || typeof v.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(v.digest)) {
    throw new StellaError('SCHEMA_INVALID', 'expected a descriptor with a sha256 digest', { file, path: where });
  }
  return v as unknown as Descriptor;
}

const blobPath = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;

interface Plan {
  format: ImageFacts['format'];
  configName: string;
  configDigest: string;
  layers: Array<{ name: string; compression: 'tar' | 'gzip' | 'zstd' | 'sniff' }>;
}

/** OCI layout: index.json → (nested indexes →) one image manifest → config + layers. */
function planOci(files: Map<string, Uint8Array>, file: string): Plan {
  let doc = jsonEntry(files, 'index.json', file, 'index', 'the OCI layout');
  let from = 'index.json';
  for (let depth = 0; ; depth++) {
    if (depth > 8) throw new StellaError('SCHEMA_INVALID', 'image indexes nest more than 8 deep', { file, path: from });
    if (!isObject(doc) || !Array.isArray(doc.manifests) || doc.manifests.length === 0) {
      throw new StellaError('SCHEMA_INVALID', 'an image index needs a non-empty manifests array', { file, path: `${from}#/manifests` });
    }
    const all = doc.manifests.map((m, i) => descriptor(m, file, `${from}#/manifests/${i}`));
    // Attestations and other platforms whose blobs were not exported are not the image.
    const present = all.filter((d) => files.has(blobPath(d.digest)) && d.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
    if (present.length === 0) throw missing(file, blobPath(all[0].digest), 'manifest blob', from);
    const pick =
      present.find((d) => d.platform?.os === 'linux' && d.platform?.architecture === 'amd64') ??
      present.find((d) => d.platform?.os === 'linux') ??
      present[0];
    const name = blobPath(pick.digest);
    checkDigest(files.get(name)!, pick.digest, file, name);
    doc = parseJsonBytes(files.get(name)!, `${file}:${name}`);
    const mt = pick.mediaType ?? (isObject(doc) ? doc.mediaType : undefined);
    if (INDEX_TYPES.has(String(mt))) {
      from = name;
      continue;
    }
    if (!MANIFEST_TYPES.has(String(mt))) {
      throw new StellaError('INPUT_UNSUPPORTED', `unknown manifest media type ${JSON.stringify(mt)}`, { file, path: name });
    }
    if (!isObject(doc) || !Array.isArray(doc.layers)) throw new StellaError('SCHEMA_INVALID', 'an image manifest needs config and layers', { file, path: name });
    const cfg = descriptor(doc.config, file, `${name}#/config`);
    if (!CONFIG_TYPES.has(cfg.mediaType)) {
      throw new StellaError('INPUT_UNSUPPORTED', `unknown config media type ${JSON.stringify(cfg.mediaType)}`, { file, path: `${name}#/config` });
    }
    const layers = doc.layers.map((l, i) => {
      const d = descriptor(l, file, `${name}#/layers/${i}`);
      const compression = LAYER_TYPES[d.mediaType];
      if (!compression) throw new StellaError('INPUT_UNSUPPORTED', `unknown layer media type ${JSON.stringify(d.mediaType)}`, { file, path: `${name}#/layers/${i}` });
      const layerName = blobPath(d.digest);
      if (!files.has(layerName)) throw missing(file, layerName, 'layer blob', name);
      checkDigest(files.get(layerName)!, d.digest, file, layerName);
      return { name: layerName, compression };
    });
    const configName = blobPath(cfg.digest);
    if (!files.has(configName)) throw missing(file, configName, 'config blob', name);
    return { format: 'oci-layout', configName, configDigest: cfg.digest, layers };
  }
}

/** docker save: manifest.json's first image → Config + Layers (paths inside the archive). */
function planDocker(files: Map<string, Uint8Array>, file: string): Plan {
  const doc = jsonEntry(files, 'manifest.json', file, 'manifest', 'the docker archive');
  if (!Array.isArray(doc) || doc.length === 0 || !isObject(doc[0])) {
    throw new StellaError('SCHEMA_INVALID', 'manifest.json must be a non-empty array of images', { file, path: 'manifest.json' });
  }
  if (doc.length > 1) throw new StellaError('INPUT_UNSUPPORTED', `the archive holds ${doc.length} images; save one image per archive`, { file, path: 'manifest.json' });
  const m = doc[0];
  if (typeof m.Config !== 'string' || !Array.isArray(m.Layers)) {
    throw new StellaError('SCHEMA_INVALID', 'an image entry needs Config (a path) and Layers (paths)', { file, path: 'manifest.json#/0' });
  }
  const clean = (p: unknown, where: string) => {
    const c = typeof p === 'string' ? cleanTarPath(p) : null;
    if (!c || (p as string).startsWith('/')) throw unsafe(file, String(p), `(${where}) escapes the archive root`);
    return c;
  };
  const configName = clean(m.Config, 'manifest.json Config');
  if (!files.has(configName)) throw missing(file, configName, 'config', 'manifest.json');
  const layers = m.Layers.map((l, i) => {
    const name = clean(l, `manifest.json Layers[${i}]`);
    if (!files.has(name)) throw missing(file, name, 'layer', 'manifest.json');
    return { name, compression: 'sniff' as const };
  });
  return { format: 'docker-save', configName, configDigest: sha256(files.get(configName)!), layers };
}

function checkDigest(bytes: Uint8Array, digest: string, file: string, entry: string): void {
  const actual = sha256(bytes);
  if (actual !== digest) throw new StellaError('BUNDLE_DIGEST_MISMATCH', `blob digest is ${actual}, not the ${digest} its name and descriptor say`, { file, path: entry });
}

type Node = { kind: 'file'; data: Uint8Array; layer: string } | { kind: 'symlink'; target: string; layer: string };

/** What the scanner reads from an image root (relative paths, as layer tars name them). */
export function isKeptImagePath(p: string): boolean {
  if (p === 'etc/os-release' || p === 'usr/lib/os-release') return true;
  if (isOsInventoryPath(p)) return true;
  const segs = p.split('/');
  const base = segs[segs.length - 1];
  if (!LOCKFILE_NAMES.test(base)) return false;
  // As for directory inputs: not inside dependency trees, VCS data or hidden directories.
  return !segs.slice(0, -1).some((d) => SKIP.has(d) || d.startsWith('.'));
}
const LOCKFILE_NAMES = /^(package-lock\.json|npm-shrinkwrap\.json|poetry\.lock|Cargo\.lock|go\.mod|go\.sum|requirements.*\.txt|.*\.requirements\.txt)$/;
const SKIP = new Set(['node_modules', '.git', '.hg', '.svn', 'target', 'vendor', '__pycache__', '.venv', 'proc', 'sys', 'dev']);

/** The filesystem view: layers applied in order. */
export class RootView {
  readonly nodes = new Map<string, Node>();
  /** Every directory that has (or had) a kept node below it: a file replacing one must clear it. */
  private readonly dirs = new Set<string>();

  constructor(readonly file: string) {}

  private set(p: string, n: Node): void {
    this.nodes.set(p, n);
    for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) this.dirs.add(p.slice(0, i));
  }

  /** Remove p and everything under it that came from a layer other than `keepLayer`. */
  private removeTree(p: string, keepLayer: string | null): void {
    const prefix = p === '' ? '' : `${p}/`;
    for (const [k, n] of this.nodes) {
      if ((k === p || k.startsWith(prefix)) && n.layer !== keepLayer) this.nodes.delete(k);
    }
  }

  apply(layerTar: Uint8Array, diffId: string, layerName: string): void {
    const opaque: string[] = [];
    const hardlinks: Array<[string, string]> = [];
    for (const e of walkTar(layerTar, this.file, layerName)) {
      const p = cleanTarPath(e.name);
      if (p === null) throw unsafe(this.file, `${layerName}:${e.name}`, 'escapes the image root');
      if (p === '') continue;
      const dir = path.posix.dirname(p);
      const base = path.posix.basename(p);
      if (base === '.wh..wh..opq') {
        opaque.push(dir === '.' ? '' : dir);
        continue;
      }
      if (base.startsWith('.wh.')) {
        const victim = (dir === '.' ? '' : `${dir}/`) + base.slice(4);
        this.removeTree(victim, diffId);
        continue;
      }
      // A new entry replaces whatever lower layers had at that path (a file over a directory too).
      if (e.kind === 'dir') {
        const n = this.nodes.get(p);
        if (n) this.nodes.delete(p);
        continue;
      }
      if (this.dirs.has(p)) this.removeTree(p, null);
      else this.nodes.delete(p);
      if (e.kind === 'symlink') this.set(p, { kind: 'symlink', target: e.linkName, layer: diffId });
      else if (e.kind === 'hardlink') {
        const t = cleanTarPath(e.linkName);
        if (t === null) throw unsafe(this.file, `${layerName}:${e.name}`, `is a hard link to ${JSON.stringify(e.linkName)}, outside the image root`);
        hardlinks.push([p, t]);
      } else if (e.kind === 'file' && isKeptImagePath(p)) {
        if (e.data.length > MAX_KEPT_FILE) throw new StellaError('INPUT_TOO_LARGE', `file is ${e.data.length} bytes, over the ${MAX_KEPT_FILE}-byte limit`, { file: this.file, path: `${layerName}:${p}` });
        this.set(p, { kind: 'file', data: e.data, layer: diffId });
      }
    }
    for (const [p, t] of hardlinks) {
      const n = this.nodes.get(t);
      if (n && isKeptImagePath(p)) this.set(p, n.kind === 'file' ? { ...n, layer: diffId } : n);
    }
    // Opaque directories hide lower layers' contents, not what this layer put there.
    for (const d of opaque) this.removeTree(d, diffId);
  }

  /** Resolve a path inside the root, following symlinks; `..` and absolute targets stay inside. */
  lookup(p: string): { path: string; node: Extract<Node, { kind: 'file' }> } | null {
    let segs = p.split('/').filter(Boolean);
    let hops = 0;
    for (let i = 0; i < segs.length; ) {
      const cur = segs.slice(0, i + 1).join('/');
      const n = this.nodes.get(cur);
      if (n?.kind === 'symlink') {
        if (++hops > MAX_LINK_HOPS) return null;
        const base = n.target.startsWith('/') ? [] : segs.slice(0, i);
        const joined: string[] = [];
        for (const s of [...base, ...n.target.split('/'), ...segs.slice(i + 1)]) {
          if (s === '' || s === '.') continue;
          if (s === '..') joined.pop();
          else joined.push(s);
        }
        segs = joined;
        i = 0;
        continue;
      }
      if (i === segs.length - 1) return n?.kind === 'file' ? { path: cur, node: n } : null;
      if (n) return null;
      i++;
    }
    return null;
  }

  /** Kept regular files at their own paths, sorted. */
  keptFiles(): Array<{ path: string; data: Uint8Array; layer: string }> {
    const out: Array<{ path: string; data: Uint8Array; layer: string }> = [];
    for (const [k, n] of this.nodes) if (n.kind === 'file') out.push({ path: k, data: n.data, layer: n.layer });
    return out.sort((a, b) => compareCodeUnits(a.path, b.path));
  }
}

function layerBytes(raw: Uint8Array, compression: Plan['layers'][number]['compression'], name: string, budget: Budget): Uint8Array {
  const c = compression === 'sniff' ? (isGzip(raw) ? 'gzip' : isZstd(raw) ? 'zstd' : 'tar') : compression;
  if (c === 'zstd') throw new StellaError('INPUT_UNSUPPORTED', 'zstd-compressed layers are not read (this scanner decompresses gzip only); save the image with gzip or uncompressed layers', { file: budget.file, path: name });
  if (c === 'gzip') return budget.gunzip(raw, name);
  budget.take(raw.length, name);
  return raw;
}

/** Parse an image archive's bytes (tar or gzipped tar) into packages, notes and image facts. */
export function parseImageArchive(bytes: Uint8Array, file: string, lockfiles: (files: InputFile[]) => { packages: ScanPackage[]; notes: string[]; files: Array<{ name: string; kind: string }> }): ImageScan {
  const budget = new Budget(file);
  const outerBytes = isGzip(bytes) ? budget.gunzip(bytes, '(gzip)') : bytes;
  const files = readOuter(outerBytes, file);
  let plan: Plan;
  if (files.has('oci-layout') && files.has('index.json')) plan = planOci(files, file);
  else if (files.has('manifest.json')) plan = planDocker(files, file);
  else throw new StellaError('INPUT_UNSUPPORTED', 'not an image archive: no manifest.json (docker save) or oci-layout + index.json (OCI layout) at its root', { file, path: '$' });

  const config = parseJsonBytes(files.get(plan.configName)!, `${file}:${plan.configName}`);
  const declared = isObject(config) && isObject(config.rootfs) && Array.isArray(config.rootfs.diff_ids) ? (config.rootfs.diff_ids as unknown[]).map(String) : null;
  if (!declared) throw new StellaError('SCHEMA_INVALID', 'image config has no rootfs.diff_ids', { file, path: plan.configName });
  const notes: string[] = [];
  const view = new RootView(file);
  const diffIds: string[] = [];
  for (const l of plan.layers) {
    const tar = layerBytes(files.get(l.name)!, l.compression, l.name, budget);
    const diffId = sha256(tar);
    diffIds.push(diffId);
    view.apply(tar, diffId, l.name);
  }
  if (declared.length !== diffIds.length || declared.some((d, i) => d !== diffIds[i])) {
    notes.push(`${file}: the image config lists ${declared.length} layer diff_id(s) that do not match the ${diffIds.length} layer(s) in the archive; input.layers and evidence use the layers' own digests`);
  }

  const osFile = view.lookup('etc/os-release') ?? view.lookup('usr/lib/os-release');
  const os = osFile ? parseOsRelease(Buffer.from(osFile.node.data).toString('utf8')) : null;
  if (!os) notes.push(`${file}: no etc/os-release or usr/lib/os-release in the image; OS packages are reported without a release`);

  const packages: ScanPackage[] = [];
  const used: ImageScan['files'] = [];
  const lockInputs: InputFile[] = [];
  const layerOf = new Map<string, string>();
  const inventories: Array<{ path: string; kind: OsPackageKind; data: Uint8Array; layer: string }> = [];
  for (const f of view.keptFiles()) {
    const kind = isOsInventoryPath(f.path);
    if (kind) inventories.push({ path: f.path, kind, data: f.data, layer: f.layer });
    else if (f.path !== 'etc/os-release' && f.path !== 'usr/lib/os-release') {
      lockInputs.push({ name: f.path, bytes: f.data });
      layerOf.set(f.path, f.layer);
    }
  }
  // rpm's database may live at either path, one a symlink to the other: read each file once.
  for (const inv of inventories) {
    const parsed = parseOsInventory(inv.kind, { name: inv.path, bytes: inv.data }, { os, layer: inv.layer }, { statusDir: inv.path.includes('/status.d/') });
    packages.push(...parsed.packages);
    notes.push(...parsed.notes.map((n) => `${inv.layer}:${n}`));
    used.push({ name: `${inv.layer}:${inv.path}`, kind: inv.kind === 'deb' ? 'dpkg-status' : inv.kind === 'apk' ? 'apk-installed' : 'rpm-sqlite' });
  }
  if (lockInputs.length) {
    const parsed = lockfiles(lockInputs);
    // Parsers locate a package as `file`, `file:line` or `file#/json/path`.
    const lockPaths = [...layerOf.keys()].sort((a, b) => b.length - a.length);
    const fileOf = (loc: string) => lockPaths.find((f) => loc === f || loc.startsWith(`${f}:`) || loc.startsWith(`${f}#`));
    for (const p of parsed.packages) {
      const f = fileOf(p.location);
      const layer = f === undefined ? undefined : layerOf.get(f);
      packages.push(layer ? { ...p, location: `${layer}:${p.location}`, layer } : p);
    }
    notes.push(...parsed.notes);
    used.push(...parsed.files.map((f) => ({ name: `${layerOf.get(f.name) ?? ''}:${f.name}`, kind: f.kind })));
  }
  return {
    packages: dedupePackages(packages),
    notes,
    files: used,
    image: { configDigest: plan.configDigest, diffIds, format: plan.format, osRelease: os, baseOs: os ? baseOsLabel(os) : '' },
  };
}
