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
  /** `VERSION_CODENAME`, lowercase ('' when absent). */
  codename: string;
  cpeName: string;
}

/** Parse the shell-style `KEY=value` lines (values optionally quoted, with `\` escapes inside quotes). */
export function parseOsRelease(text: string): OsRelease {
  const kv = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
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
    codename: (kv.get('VERSION_CODENAME') ?? '').toLowerCase(),
    cpeName: kv.get('CPE_NAME') ?? '',
  };
}

const DEBIAN_CODENAMES: Readonly<Record<string, string>> = {
  wheezy: '7', jessie: '8', stretch: '9', buster: '10', bullseye: '11', bookworm: '12', trixie: '13', forky: '14',
};
const UBUNTU_CODENAMES: Readonly<Record<string, string>> = {
  trusty: '14.04', xenial: '16.04', bionic: '18.04', focal: '20.04', jammy: '22.04', noble: '24.04',
  kinetic: '22.10', lunar: '23.04', mantic: '23.10', oracular: '24.10', plucky: '25.04', questing: '25.10',
};
const majorOf = (v: string) => v.split('.')[0];

/**
 * The OSV ecosystem of the OS packages of an image with this os-release, '' when OSV has none for it
 * (the caller then falls back to the package manager's family). Releases are part of the ecosystem
 * (OSV keys Debian 11 and Debian 12 advisories apart). Same rules as purl.ts's
 * osvEcosystemFromOsRelease (issue 15, points 1–2): Ubuntu LTS from VERSION or an even-year .04;
 * CBL-Mariner is `Azure Linux` as OSV's ecosystems.json names it; RHEL from CPE_NAME.
 */
export function osvEcosystem(os: OsRelease): string {
  const v = os.versionId;
  switch (os.id) {
    case 'debian': {
      const release = /^\d+/.exec(v)?.[0] ?? DEBIAN_CODENAMES[os.codename];
      return release ? `Debian:${release}` : 'Debian';
    }
    case 'ubuntu': {
      const release = /^\d+\.\d+/.exec(v)?.[0] ?? UBUNTU_CODENAMES[os.codename];
      if (!release) return '';
      const lts = /\bLTS\b/.test(os.version) || /^\d*[02468]\.04$/.test(release);
      return `Ubuntu:${release}${lts ? ':LTS' : ''}`;
    }
    case 'alpine': {
      const m = /^(\d+)\.(\d+)/.exec(v);
      return m ? `Alpine:v${m[1]}.${m[2]}` : '';
    }
    case 'wolfi':
      return 'Wolfi';
    case 'chainguard':
      return 'Chainguard';
    case 'almalinux':
      return v ? `AlmaLinux:${majorOf(v)}` : 'AlmaLinux';
    case 'rocky':
      return v ? `Rocky Linux:${majorOf(v)}` : 'Rocky Linux';
    case 'rhel': {
      const cpe = /^cpe:\/[oa]:redhat:([^:]+):([^:]+)/.exec(os.cpeName);
      if (cpe) return `Red Hat:${cpe[1]}:${cpe[2]}`;
      return v ? `Red Hat:enterprise_linux:${majorOf(v)}` : '';
    }
    case 'mageia':
      return v ? `Mageia:${v}` : '';
    case 'opensuse-leap':
      return v ? `openSUSE:Leap ${v}` : 'openSUSE';
    case 'opensuse-tumbleweed':
      return 'openSUSE:Tumbleweed';
    case 'sles':
    case 'sled': {
      const pretty = os.prettyName.replace(/^SUSE\s+/, '');
      return pretty ? `SUSE:${pretty}` : '';
    }
    case 'azurelinux':
    case 'mariner':
      return v ? `Azure Linux:${v}` : '';
    case 'photon':
      return v ? `Photon OS:${v}` : '';
    default:
      return '';
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
 * The purl `distro=` qualifier: `<ID>-<VERSION_ID>` (`debian-11`, `ubuntu-18.04`, `alpine-3.18.4`,
 * `mariner-2.0`), the form syft and Trivy write and purl.ts's osPurlFor uses; the codename when there is
 * no VERSION_ID; '' without os-release.
 */
export function distroQualifier(os: OsRelease | null): string {
  if (!os?.id) return '';
  if (os.versionId) return `${os.id}-${os.versionId}`;
  return os.codename;
}

/** The value of labels.base_os for an image: `debian-12`, `ubuntu-18.04`, `alpine-3.18.4`. */
export function baseOsLabel(os: OsRelease): string {
  return os.versionId ? `${os.id}-${os.versionId}` : os.id;
}
