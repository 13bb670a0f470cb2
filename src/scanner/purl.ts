// Package URLs (https://github.com/package-url/purl-spec) for the OSV ecosystems the scanner knows.
// Type-specific rules applied: npm scope `@x` is the namespace, written `%40x`; pypi names are PEP 503
// normalised (lowercase, runs of `-_.` → `-`); golang module paths split into namespace/name at the last
// `/`; maven `group:artifact` → `group/artifact`; cargo as is. Every segment is percent-encoded except
// the purl "unreserved" set, so `+incompatible` becomes `%2Bincompatible`.
import { StellaError } from '../core/errors.js';

export interface Purl {
  type: string;
  namespace: string | null;
  name: string;
  version: string | null;
  qualifiers: Record<string, string>;
  subpath: string | null;
}

/** PEP 503 name normalisation. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const TYPE_BY_ECOSYSTEM: Record<string, string> = {
  npm: 'npm',
  PyPI: 'pypi',
  Go: 'golang',
  'crates.io': 'cargo',
  Maven: 'maven',
  NuGet: 'nuget',
  RubyGems: 'gem',
  Packagist: 'composer',
  Hex: 'hex',
  Pub: 'pub',
};

const ECOSYSTEM_BY_TYPE: Record<string, string> = Object.fromEntries(Object.entries(TYPE_BY_ECOSYSTEM).map(([e, t]) => [t, e]));

/** Split an ecosystem's package name into purl namespace and name. */
function splitName(type: string, name: string): [string | null, string] {
  switch (type) {
    case 'npm': {
      const m = /^(@[^/]+)\/(.+)$/.exec(name);
      return m ? [m[1], m[2]] : [null, name];
    }
    case 'pypi':
      return [null, normalizePypiName(name)];
    case 'maven': {
      const i = name.indexOf(':');
      return i >= 0 ? [name.slice(0, i), name.slice(i + 1)] : [null, name];
    }
    case 'golang':
    case 'composer': {
      const i = name.lastIndexOf('/');
      return i >= 0 ? [name.slice(0, i), name.slice(i + 1)] : [null, name];
    }
    default:
      return [null, name];
  }
}

export function formatPurl(p: Purl): string {
  let out = `pkg:${p.type}/`;
  if (p.namespace) out += p.namespace.split('/').map(enc).join('/') + '/';
  out += enc(p.name);
  if (p.version !== null) out += `@${enc(p.version)}`;
  const keys = Object.keys(p.qualifiers).filter((k) => p.qualifiers[k] !== '').sort();
  if (keys.length) out += '?' + keys.map((k) => `${k}=${enc(p.qualifiers[k])}`).join('&');
  if (p.subpath) out += '#' + p.subpath.split('/').filter((s) => s && s !== '.' && s !== '..').map(enc).join('/');
  return out;
}

/** The purl of a package as the scanner reports it. Unknown ecosystems become `pkg:generic/…`. */
export function purlFor(ecosystem: string, name: string, version: string): string {
  const type = TYPE_BY_ECOSYSTEM[ecosystem] ?? 'generic';
  const [namespace, base] = splitName(type, name);
  return formatPurl({ type, namespace, name: base, version, qualifiers: {}, subpath: null });
}

function dec(s: string, purl: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new StellaError('INPUT_UNSUPPORTED', `invalid percent-encoding in package URL ${JSON.stringify(purl)}`);
  }
}

/** Parse a purl string; throws INPUT_UNSUPPORTED (no file/path known here: callers add them). */
export function parsePurl(purl: string): Purl {
  const bad = (why: string) => new StellaError('INPUT_UNSUPPORTED', `invalid package URL ${JSON.stringify(purl)}: ${why}`);
  if (!purl.startsWith('pkg:')) throw bad('must start with "pkg:"');
  let rest = purl.slice(4).replace(/^\/+/, '');
  let subpath: string | null = null;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    subpath = rest.slice(hash + 1).split('/').filter((s) => s && s !== '.' && s !== '..').map((s) => dec(s, purl)).join('/') || null;
    rest = rest.slice(0, hash);
  }
  const qualifiers: Record<string, string> = {};
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const pair of rest.slice(q + 1).split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw bad(`qualifier ${JSON.stringify(pair)} has no key=value form`);
      const value = dec(pair.slice(eq + 1), purl);
      if (value !== '') qualifiers[pair.slice(0, eq).toLowerCase()] = value;
    }
    rest = rest.slice(0, q);
  }
  let version: string | null = null;
  const at = rest.lastIndexOf('@');
  // An `@` before the last `/` belongs to the path (never in an encoded purl, but be lenient).
  if (at > rest.lastIndexOf('/')) {
    version = dec(rest.slice(at + 1), purl);
    rest = rest.slice(0, at);
  }
  const segments = rest.split('/').filter((s) => s !== '');
  if (segments.length < 2) throw bad('needs a type and a name');
  const type = segments[0].toLowerCase();
  if (!/^[a-z.+-][a-z0-9.+-]*$/.test(type)) throw bad(`bad type ${JSON.stringify(segments[0])}`);
  const name = dec(segments[segments.length - 1], purl);
  const ns = segments.slice(1, -1).map((s) => dec(s, purl));
  return { type, namespace: ns.length ? ns.join('/') : null, name, version, qualifiers, subpath };
}

/** OSV ecosystem and package name of a purl (inverse of purlFor for the known types), or null. */
export function ecosystemOfPurl(p: Purl): { ecosystem: string; name: string } | null {
  const ecosystem = ECOSYSTEM_BY_TYPE[p.type];
  if (!ecosystem) return null;
  switch (p.type) {
    case 'maven':
      return p.namespace ? { ecosystem, name: `${p.namespace}:${p.name}` } : null;
    case 'pypi':
      return { ecosystem, name: normalizePypiName(p.name) };
    default:
      return { ecosystem, name: p.namespace ? `${p.namespace}/${p.name}` : p.name };
  }
}

// ---- OS packages -------------------------------------------------------------------------------------
// OSV names an OS ecosystem after the distribution and its release (`Debian:12`, `Ubuntu:22.04:LTS`,
// `Alpine:v3.19`, `AlmaLinux:9`); the release comes from the image's /etc/os-release (or
// /usr/lib/os-release). Purls of OS packages follow the purl spec's deb/apk/rpm types and carry the
// release as `distro=<ID>-<VERSION_ID>` (`pkg:deb/debian/openssl@1.1.1n-0+deb11u3?arch=amd64&distro=debian-11`),
// the form syft and Trivy write.

/** Fields of an os-release file (`ID`, `VERSION_ID`, `VERSION`, `VERSION_CODENAME`, `PRETTY_NAME`, `CPE_NAME`, …). */
export type OsReleaseFields = Readonly<Record<string, string | undefined>>;

/** Parse os-release text (freedesktop.org os-release(5)): `KEY=value` lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2];
    const q = v[0];
    if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\([\\"$`])/g, '$1');
    }
    out[m[1]] = v;
  }
  return out;
}

const DEBIAN_CODENAMES: Readonly<Record<string, string>> = {
  wheezy: '7', jessie: '8', stretch: '9', buster: '10', bullseye: '11', bookworm: '12', trixie: '13', forky: '14',
};
const UBUNTU_CODENAMES: Readonly<Record<string, string>> = {
  trusty: '14.04', xenial: '16.04', bionic: '18.04', focal: '20.04', jammy: '22.04', noble: '24.04',
  kinetic: '22.10', lunar: '23.04', mantic: '23.10', oracular: '24.10', plucky: '25.04', questing: '25.10',
};

const major = (v: string) => v.split('.')[0];

/**
 * The OSV ecosystem of the packages of an OS, from its os-release fields; null when OSV has no
 * ecosystem for it (or the fields do not say which release it is, where OSV requires one).
 */
export function osvEcosystemFromOsRelease(f: OsReleaseFields): string | null {
  const id = (f.ID ?? '').toLowerCase();
  const versionId = f.VERSION_ID ?? '';
  const codename = (f.VERSION_CODENAME ?? '').toLowerCase();
  switch (id) {
    case 'debian': {
      const release = /^\d+/.exec(versionId)?.[0] ?? DEBIAN_CODENAMES[codename];
      return release ? `Debian:${release}` : 'Debian';
    }
    case 'ubuntu': {
      const release = /^\d+\.\d+/.exec(versionId)?.[0] ?? UBUNTU_CODENAMES[codename];
      if (!release) return null;
      // LTS: said in VERSION ("22.04.4 LTS (Jammy Jellyfish)"), and every even-year .04 release is one.
      const lts = /\bLTS\b/.test(f.VERSION ?? '') || /^\d*[02468]\.04$/.test(release);
      return `Ubuntu:${release}${lts ? ':LTS' : ''}`;
    }
    case 'alpine': {
      const m = /^(\d+)\.(\d+)/.exec(versionId);
      return m ? `Alpine:v${m[1]}.${m[2]}` : null;
    }
    case 'wolfi':
      return 'Wolfi';
    case 'chainguard':
      return 'Chainguard';
    case 'almalinux':
      return versionId ? `AlmaLinux:${major(versionId)}` : 'AlmaLinux';
    case 'rocky':
      return versionId ? `Rocky Linux:${major(versionId)}` : 'Rocky Linux';
    case 'rhel': {
      // CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos" → `Red Hat:enterprise_linux:9`; the
      // matcher takes every stream of that product (`…::baseos`, `…::appstream`).
      const cpe = /^cpe:\/[oa]:redhat:([^:]+):([^:]+)/.exec(f.CPE_NAME ?? '');
      if (cpe) return `Red Hat:${cpe[1]}:${cpe[2]}`;
      return versionId ? `Red Hat:enterprise_linux:${major(versionId)}` : null;
    }
    case 'mageia':
      return versionId ? `Mageia:${versionId}` : null;
    case 'opensuse-leap':
      return versionId ? `openSUSE:Leap ${versionId}` : 'openSUSE';
    case 'opensuse-tumbleweed':
      return 'openSUSE:Tumbleweed';
    case 'sles':
    case 'sled': {
      const pretty = (f.PRETTY_NAME ?? '').replace(/^SUSE\s+/, '');
      return pretty ? `SUSE:${pretty}` : null;
    }
    case 'azurelinux':
    case 'mariner':
      return versionId ? `Azure Linux:${versionId}` : null;
    case 'photon':
      return versionId ? `Photon OS:${versionId}` : null;
    default:
      return null;
  }
}

export type OsPackageType = 'deb' | 'apk' | 'rpm';

/**
 * The purl of an installed OS package: `pkg:<type>/<os ID>/<name>@<version>?arch=…&distro=<ID>-<VERSION_ID>`,
 * plus `epoch=` for an rpm with an epoch and `upstream=` naming the source package when it differs
 * from the binary (the purl spec's qualifiers).
 */
export function osPurlFor(
  type: OsPackageType,
  osRelease: OsReleaseFields,
  name: string,
  version: string,
  opts: { arch?: string; epoch?: string; sourceName?: string } = {},
): string {
  const id = (osRelease.ID ?? '').toLowerCase() || null;
  const qualifiers: Record<string, string> = {};
  if (opts.arch) qualifiers.arch = opts.arch;
  if (id && osRelease.VERSION_ID) qualifiers.distro = `${id}-${osRelease.VERSION_ID}`;
  else if (id && osRelease.VERSION_CODENAME) qualifiers.distro = osRelease.VERSION_CODENAME;
  if (opts.epoch && opts.epoch !== '0') qualifiers.epoch = opts.epoch;
  if (opts.sourceName && opts.sourceName !== name) qualifiers.upstream = opts.sourceName;
  return formatPurl({ type, namespace: id, name, version, qualifiers, subpath: null });
}

/**
 * OSV ecosystem and name of an OS package purl (deb, apk, rpm): the release from `distro=`
 * (`debian-11`, `alpine-3.19.1`, `almalinux-9.3`, or a codename such as `bullseye`/`jammy`), the
 * distribution from the namespace. Without a usable `distro` the bare distribution is returned
 * (`Debian`), which matches only records that name no release. Null for other purl types.
 */
export function osPackageOfPurl(p: Purl): { ecosystem: string; name: string; sourceName?: string; sourceVersion?: string } | null {
  if (p.type !== 'deb' && p.type !== 'apk' && p.type !== 'rpm') return null;
  const ns = (p.namespace ?? '').toLowerCase();
  const id = ns === 'redhat' ? 'rhel' : ns;
  const distro = p.qualifiers.distro ?? '';
  let versionId: string | undefined;
  let codename: string | undefined;
  const m = /^([a-z-]+?)-(\d[\w.]*)$/.exec(distro);
  if (m) versionId = m[2];
  else if (/^\d[\w.]*$/.test(distro)) versionId = distro;
  else if (distro) codename = distro;
  const ecosystem = osvEcosystemFromOsRelease({ ID: id, VERSION_ID: versionId, VERSION_CODENAME: codename }) ?? BARE_OS[id] ?? null;
  if (!ecosystem) return null;
  // `upstream=` names the source package, as `name` or `name@version` (syft writes both).
  const upstream = p.qualifiers.upstream;
  if (!upstream) return { ecosystem, name: p.name };
  const at = upstream.indexOf('@');
  const sourceName = at >= 0 ? upstream.slice(0, at) : upstream;
  const sourceVersion = at >= 0 ? upstream.slice(at + 1) : undefined;
  return { ecosystem, name: p.name, sourceName, ...(sourceVersion ? { sourceVersion } : {}) };
}

/** The distribution's ecosystem when the purl names no release. */
const BARE_OS: Readonly<Record<string, string>> = {
  debian: 'Debian', ubuntu: 'Ubuntu', alpine: 'Alpine', wolfi: 'Wolfi', chainguard: 'Chainguard', almalinux: 'AlmaLinux',
  rocky: 'Rocky Linux', rhel: 'Red Hat', mageia: 'Mageia', 'opensuse-leap': 'openSUSE', sles: 'SUSE',
};
