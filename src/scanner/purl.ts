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
