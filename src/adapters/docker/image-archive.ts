// The scanner image, built without a registry or a Dockerfile: one layer holding the host's node
// runtime with exactly the shared libraries it links (plus libfaketime for the frozen clock), the
// scanner's compiled module graph and its runtime node_modules. The layer tar and the image config are
// byte-deterministic (tar-writer.ts; config serialized as JCS with `created` at the epoch), so the
// image ID — sha256 of the config bytes — depends only on the content. Same dist → same image ID.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { canonicalBytes, sha256Digest } from '../../core/canonical/jcs.js';
import { StellaError } from '../../core/errors.js';
import type { Digest } from '../../core/formats.js';
import { tarChunks, type TarChunks, type TarEntry } from './tar-writer.js';
import { RELEASE_FILE } from '../../scanner/runtime.js';

/** Where things live inside the image. The executors rely on these paths. */
export const IMAGE_PATHS = {
  node: '/usr/local/bin/node',
  app: '/app',
  entry: '/app/dist/src/scanner/entry.js',
  /** A fixed name for the preload library, whatever the host's multiarch directory is called. */
  faketime: '/usr/local/lib/faketime/libfaketime.so.1',
  input: '/in',
  output: '/out',
} as const;
export const IMAGE_USER = '65534:65534';
export const IMAGE_EPOCH = '1970-01-01T00:00:00Z';
export const IMAGE_REPO = 'stella-scanner';

const FAKETIME_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
  '/usr/lib64/faketime/libfaketime.so.1',
];

export interface ImageSources {
  /** Repository root holding `dist/`, `package.json` and `node_modules/`. */
  repoRoot: string;
  /** Scanner entry relative to repoRoot. */
  entry: string;
  /** The node binary to ship (default: the one running now). */
  nodePath: string;
  faketimeLib: string;
  /**
   * A named scanner release: `/app/scanner-release.json` with this version is baked in, and the
   * scanner reports it in its artifacts (same sources, another build → another image ID).
   */
  release?: { version: string } | null;
}

export interface BuiltImage {
  imageId: Digest;
  layerDigest: Digest;
  configBytes: Buffer;
  layer: TarChunks;
  tag: string;
}

export function findFaketimeLib(): string {
  for (const c of FAKETIME_CANDIDATES) if (existsSync(c)) return c;
  throw new StellaError(
    'NOT_FOUND',
    `libfaketime is not installed (looked in ${FAKETIME_CANDIDATES.join(', ')}); install it (Debian/Ubuntu: apt-get install libfaketime) — the scanner image needs it for the frozen clock`,
  );
}

export function defaultSources(repoRoot: string): ImageSources {
  return {
    repoRoot,
    entry: 'dist/src/scanner/entry.js',
    nodePath: realpathSync(process.execPath),
    faketimeLib: findFaketimeLib(),
  };
}

export function dockerArch(arch: string = process.arch): string {
  switch (arch) {
    case 'x64':
      return 'amd64';
    case 'arm64':
      return 'arm64';
    case 'ia32':
      return '386';
    default:
      return arch;
  }
}

/** Shared libraries a binary loads, by ldd (absolute paths, including the dynamic loader). */
export function sharedLibraries(binary: string): string[] {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    // A static binary makes ldd exit 1 with "not a dynamic executable": nothing to copy.
    if (/not a dynamic executable|statically linked/.test(`${r.stdout}${r.stderr}`)) return [];
    throw new StellaError('IO', `ldd ${binary} failed: ${(r.error?.message ?? r.stderr ?? '').trim()}; is ldd (libc-bin) installed?`, { file: binary });
  }
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const arrow = /=>\s+(\/\S+)\s+\(/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    if (/not found/.test(line)) throw new StellaError('IO', `ldd ${binary}: ${line.trim()}`, { file: binary });
    const p = arrow?.[1] ?? bare?.[1];
    if (p) out.push(p);
  }
  return out.sort();
}

class LayerBuilder {
  private readonly entries = new Map<string, TarEntry>();

  dir(p: string, mode = 0o755): void {
    const key = p.replace(/\/+$/, '');
    const prev = this.entries.get(key);
    if (prev && prev.kind !== 'dir') return;
    this.entries.set(key, { kind: 'dir', path: key, mode });
  }

  /** Every ancestor directory of an image path. */
  parents(p: string): void {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const d = '/' + parts.slice(0, i).join('/');
      if (!this.entries.has(d)) this.dir(d);
    }
  }

  file(p: string, data: Uint8Array, mode: number): void {
    this.parents(p);
    this.entries.set(p, { kind: 'file', path: p, mode, data });
  }

  symlink(p: string, target: string): void {
    this.parents(p);
    this.entries.set(p, { kind: 'symlink', path: p, target });
  }

  /**
   * Copy a host path to the same path in the image, reproducing every symlink on the way (merged-/usr
   * hosts reach libc as /lib → usr/lib, the loader as /lib64/ld-linux… → /lib/x86_64-linux-gnu/…).
   */
  hostPath(abs: string, depth = 0): void {
    if (depth > 40) throw new StellaError('IO', `too many symlinks resolving ${abs}`, { file: abs });
    const parts = abs.split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      cur += '/' + parts[i];
      const st = lstatSync(cur);
      if (st.isSymbolicLink()) {
        const target = readlinkSync(cur);
        this.symlink(cur, target);
        const rest = parts.slice(i + 1).join('/');
        const resolved = path.posix.resolve(path.posix.dirname(cur), target);
        this.hostPath(rest ? `${resolved}/${rest}` : resolved, depth + 1);
        return;
      }
      if (i < parts.length - 1) {
        if (!st.isDirectory()) throw new StellaError('IO', `${cur} is not a directory`, { file: abs });
        if (!this.entries.has(cur)) this.dir(cur);
      } else if (st.isDirectory()) {
        this.dir(cur);
      } else if (st.isFile()) {
        this.file(cur, readFileSync(cur), execMode(st.mode));
      } else {
        throw new StellaError('IO', `${cur} is not a regular file`, { file: abs });
      }
    }
  }

  /** A host directory tree copied under an image path (symlinks kept as symlinks). */
  tree(hostDir: string, imageDir: string): void {
    this.dir(imageDir);
    for (const name of readdirSync(hostDir).sort()) {
      const h = path.join(hostDir, name);
      const i = `${imageDir}/${name}`;
      const st = lstatSync(h);
      if (st.isSymbolicLink()) this.symlink(i, readlinkSync(h));
      else if (st.isDirectory()) this.tree(h, i);
      else if (st.isFile()) this.file(i, readFileSync(h), execMode(st.mode));
    }
  }

  list(): TarEntry[] {
    return [...this.entries.values()];
  }
}

function execMode(mode: number): number {
  return mode & 0o111 ? 0o755 : 0o644;
}

const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"\n]+)\1/g;

/**
 * The compiled files reachable from the scanner entry by static and literal dynamic imports, and the
 * packages they import. Shipping only this graph (not all of dist/) keeps the image ID stable when
 * code the scanner never loads (CLI, workstation, index) changes.
 */
export function moduleGraph(repoRoot: string, entry: string): { files: string[]; packages: string[] } {
  const start = path.join(repoRoot, entry);
  if (!existsSync(start)) {
    throw new StellaError('NOT_FOUND', `scanner entry ${entry} is not built; run \`npx tsc -p .\` first`, { file: start });
  }
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [start];
  while (queue.length) {
    const f = queue.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    if (!f.endsWith('.js') && !f.endsWith('.mjs') && !f.endsWith('.cjs')) continue;
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[2];
      if (spec.startsWith('.') || spec.startsWith('/')) {
        const resolved = resolveRelative(path.resolve(path.dirname(f), spec));
        // A string that merely looks like an import (inside a message, say) resolves to nothing: skip it.
        if (resolved) queue.push(resolved);
      } else if (!isBuiltin(spec)) {
        packages.add(packageName(spec));
      }
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort() };
}

function resolveRelative(p: string): string | null {
  for (const c of [p, `${p}.js`, path.join(p, 'index.js')]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Packages plus their `dependencies`, transitively, as found in repoRoot/node_modules. */
export function packageClosure(repoRoot: string, roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    const dir = path.join(repoRoot, 'node_modules', name);
    const pkgFile = path.join(dir, 'package.json');
    if (!existsSync(pkgFile)) {
      throw new StellaError('NOT_FOUND', `the scanner imports '${name}' but node_modules/${name} is missing; run npm install`, { file: pkgFile });
    }
    seen.add(name);
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push(dep);
  }
  return [...seen].sort();
}

export function layerEntries(src: ImageSources): TarEntry[] {
  const b = new LayerBuilder();
  // Runtime: node at a fixed path, and every library node and libfaketime link, at their real paths.
  b.file(IMAGE_PATHS.node, readFileSync(src.nodePath), 0o755);
  const libs = new Set([...sharedLibraries(src.nodePath), ...sharedLibraries(src.faketimeLib), src.faketimeLib]);
  for (const lib of [...libs].sort()) b.hostPath(lib);
  b.file(IMAGE_PATHS.faketime, readFileSync(src.faketimeLib), 0o644);
  // Users: only nobody (65534) runs here; root exists so tools that look up uid 0 do not fail.
  b.file('/etc/passwd', Buffer.from('root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n'), 0o644);
  b.file('/etc/group', Buffer.from('root:x:0:\nnobody:x:65534:\n'), 0o644);
  b.dir('/tmp', 0o1777);
  b.dir(IMAGE_PATHS.output, 0o777);
  b.dir(IMAGE_PATHS.input, 0o755);
  // App: package.json ("type": "module"), the scanner's module graph, its runtime packages.
  b.file(`${IMAGE_PATHS.app}/package.json`, readFileSync(path.join(src.repoRoot, 'package.json')), 0o644);
  if (src.release) b.file(`${IMAGE_PATHS.app}/${RELEASE_FILE}`, releaseBytes(src.release), 0o644);
  const graph = moduleGraph(src.repoRoot, src.entry);
  for (const f of graph.files) {
    const rel = path.relative(src.repoRoot, f).split(path.sep).join('/');
    b.file(`${IMAGE_PATHS.app}/${rel}`, readFileSync(f), 0o644);
  }
  for (const pkg of packageClosure(src.repoRoot, graph.packages)) {
    b.tree(path.join(src.repoRoot, 'node_modules', pkg), `${IMAGE_PATHS.app}/node_modules/${pkg}`);
  }
  return b.list();
}

/** The release file's bytes: canonical JSON, so the layer (and the image ID) is a function of the version. */
export function releaseBytes(release: { version: string }): Buffer {
  return Buffer.from(canonicalBytes({ version: release.version }));
}

export function imageConfig(layerDigest: Digest, arch: string): Buffer {
  return canonicalBytes({
    architecture: arch,
    os: 'linux',
    created: IMAGE_EPOCH,
    config: {
      User: IMAGE_USER,
      Entrypoint: [IMAGE_PATHS.node, IMAGE_PATHS.entry],
      WorkingDir: '/',
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin'],
      Labels: { 'org.stella.image': 'scanner', 'org.stella.faketime': IMAGE_PATHS.faketime },
    },
    rootfs: { type: 'layers', diff_ids: [layerDigest] },
    history: [{ created: IMAGE_EPOCH, created_by: 'stella image build' }],
  });
}

export function buildImage(src: ImageSources): BuiltImage {
  const layer = tarChunks(layerEntries(src));
  const configBytes = imageConfig(layer.digest, dockerArch());
  const imageId = sha256Digest(configBytes);
  return { imageId, layerDigest: layer.digest, configBytes, layer, tag: imageTag(imageId) };
}

export function imageTag(imageId: string): string {
  return `${IMAGE_REPO}:${imageId.slice('sha256:'.length, 'sha256:'.length + 12)}`;
}

/** The docker-archive (`docker save` layout): config blob, one layer, manifest.json. */
export function dockerArchive(img: BuiltImage): TarChunks {
  const cfgHex = img.imageId.slice('sha256:'.length);
  const layerHex = img.layerDigest.slice('sha256:'.length);
  const manifest = Buffer.from(JSON.stringify([{ Config: `${cfgHex}.json`, RepoTags: [img.tag], Layers: [`${layerHex}/layer.tar`] }]));
  return tarChunks([
    { kind: 'file', path: `${cfgHex}.json`, mode: 0o644, data: img.configBytes },
    { kind: 'dir', path: layerHex, mode: 0o755 },
    { kind: 'file', path: `${layerHex}/layer.tar`, mode: 0o644, data: img.layer.chunks },
    { kind: 'file', path: 'manifest.json', mode: 0o644, data: manifest },
  ]);
}

/** Bumped when the layout above changes, so cached image IDs from an older builder are not reused. */
export const IMAGE_FORMAT = 'stella-image/1';

/**
 * A cheap key for "what would buildImage produce": app files by content, host runtime files by
 * (path, size, mtime, inode) — hashing the 100 MB node binary on every scan is what the cache avoids.
 */
export function sourceFingerprint(src: ImageSources): Digest {
  const h: string[] = [IMAGE_FORMAT, dockerArch()];
  if (src.release) h.push(`release ${sha256Digest(releaseBytes(src.release))}`);
  const hostFiles = new Set([src.nodePath, src.faketimeLib, ...sharedLibraries(src.nodePath), ...sharedLibraries(src.faketimeLib)]);
  for (const f of [...hostFiles].sort()) {
    const st = statSync(f);
    h.push(`host ${f} ${st.size} ${st.mtimeMs} ${st.ino}`);
  }
  const graph = moduleGraph(src.repoRoot, src.entry);
  const appFiles = [path.join(src.repoRoot, 'package.json'), ...graph.files];
  for (const pkg of packageClosure(src.repoRoot, graph.packages)) appFiles.push(...treeFiles(path.join(src.repoRoot, 'node_modules', pkg)));
  for (const f of appFiles) h.push(`app ${path.relative(src.repoRoot, f)} ${sha256Digest(readFileSync(f))}`);
  return sha256Digest(h.join('\n'));
}

function treeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) out.push(...treeFiles(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}
