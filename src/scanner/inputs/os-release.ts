// os-release (freedesktop.org, `/etc/os-release` or `/usr/lib/os-release`) → the OSV ecosystem an OS
// package of that image belongs to, spelled as OSV spells it (`Debian:12`, `Ubuntu:22.04:LTS`,
// `Alpine:v3.19`, `AlmaLinux:9`, `Mariner:2.0`), and the purl `distro=` qualifier.
// Pure: bytes in, fields out.

export interface OsRelease {
  /** `ID`, lowercase (`debian`, `ubuntu`, `alpine`, `almalinux`, `mariner`, …). */
  id: string;
  /** `VERSION_ID`, '' when absent (Debian testing/sid). */
  versionId: string;
  /** `VERSION` (e.g. `18.04.6 LTS (Bionic Beaver)`), '' when absent. */
  version: string;
  /** `ID_LIKE`, split on spaces. */
  idLike: string[];
  prettyName: string;
}

/** Parse the shell-style `KEY=value` lines (values optionally quoted, with `\` escapes inside quotes). */
export function parseOsRelease(text: string): OsRelease {
  const kv = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2];
    const q = v[0];
    if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\([$"`\\])/g, '$1');
    }
    kv.set(m[1], v);
  }
  return {
    id: (kv.get('ID') ?? '').toLowerCase(),
    versionId: kv.get('VERSION_ID') ?? '',
    version: kv.get('VERSION') ?? '',
    idLike: (kv.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean),
    prettyName: kv.get('PRETTY_NAME') ?? '',
  };
}

const majorOf = (v: string) => /^\d+/.exec(v)?.[0] ?? v;
const majorMinorOf = (v: string) => /^\d+(\.\d+)?/.exec(v)?.[0] ?? v;

/**
 * The OSV ecosystem of the OS packages of an image with this os-release. Releases are part of the
 * ecosystem (OSV keys Debian 11 and Debian 12 advisories apart); an unknown distribution gives its
 * `ID` capitalised as OSV would, without a release, so its packages are still reported.
 */
export function osvEcosystem(os: OsRelease): string {
  const v = os.versionId;
  switch (os.id) {
    case 'debian':
      return v ? `Debian:${majorOf(v)}` : 'Debian';
    case 'ubuntu': {
      const mm = majorMinorOf(v);
      if (!mm) return 'Ubuntu';
      return /\bLTS\b/.test(os.version) ? `Ubuntu:${mm}:LTS` : `Ubuntu:${mm}`;
    }
    case 'alpine': {
      const mm = /^(\d+)\.(\d+)/.exec(v);
      return mm ? `Alpine:v${mm[1]}.${mm[2]}` : 'Alpine';
    }
    case 'almalinux':
      return v ? `AlmaLinux:${majorOf(v)}` : 'AlmaLinux';
    case 'rocky':
      return v ? `Rocky Linux:${majorOf(v)}` : 'Rocky Linux';
    case 'mariner':
      return v ? `Mariner:${majorMinorOf(v)}` : 'Mariner';
    case 'azurelinux':
      return v ? `Azure Linux:${majorMinorOf(v)}` : 'Azure Linux';
    case 'rhel':
      return 'Red Hat';
    case 'wolfi':
      return 'Wolfi';
    case 'chainguard':
      return 'Chainguard';
    case 'photon':
      return v ? `Photon OS:${majorMinorOf(v)}` : 'Photon OS';
    case 'opensuse-leap':
      return v ? `openSUSE:Leap ${v}` : 'openSUSE';
    case 'sles':
      return 'SUSE';
    case 'openeuler':
      return v ? `openEuler:${v}` : 'openEuler';
    default:
      return os.id ? os.id[0].toUpperCase() + os.id.slice(1) : '';
  }
}

/** The ecosystem OS packages get when the image has no os-release: the package manager's family. */
export const ECOSYSTEM_WITHOUT_OS_RELEASE: Readonly<Record<'deb' | 'apk' | 'rpm', string>> = { deb: 'Debian', apk: 'Alpine', rpm: 'Red Hat' };

/** purl namespace (the vendor) for an OS package: `debian`, `ubuntu`, `alpine`, `mariner`, … */
export function purlNamespace(os: OsRelease | null, kind: 'deb' | 'apk' | 'rpm'): string {
  if (os?.id) return os.id;
  return kind === 'deb' ? 'debian' : kind === 'apk' ? 'alpine' : 'redhat';
}

/**
 * The purl `distro=` qualifier: `debian-11`, `ubuntu-18.04`, `mariner-2.0`; for Alpine the bare
 * VERSION_ID (`3.18.4`), as the purl spec's apk examples and syft/trivy write it. '' without os-release.
 */
export function distroQualifier(os: OsRelease | null): string {
  if (!os?.id) return '';
  if (os.id === 'alpine') return os.versionId;
  return os.versionId ? `${os.id}-${os.versionId}` : os.id;
}

/** The value of labels.base_os for an image: `debian-12`, `ubuntu-18.04`, `alpine-3.18.4`. */
export function baseOsLabel(os: OsRelease): string {
  return os.versionId ? `${os.id}-${os.versionId}` : os.id;
}
