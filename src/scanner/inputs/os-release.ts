// os-release (freedesktop.org, `/etc/os-release` or `/usr/lib/os-release`) → the OSV ecosystem an OS
// package of that image belongs to, spelled as OSV spells it (`Debian:12`, `Ubuntu:22.04:LTS`,
// `Alpine:v3.19`, `AlmaLinux:9`, `Mariner:2.0`), and the purl `distro=` qualifier.
// Pure: bytes in, fields out.
import { osvEcosystemFromOsRelease, parseOsRelease as parseOsReleaseFields } from '../purl.js';

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
  /** Every field as written. */
  fields: Readonly<Record<string, string>>;
}

/** Parse os-release text (purl.ts's parser) into the fields the inventories use. */
export function parseOsRelease(text: string): OsRelease {
  const kv = parseOsReleaseFields(text);
  return {
    id: (kv.ID ?? '').toLowerCase(),
    versionId: kv.VERSION_ID ?? '',
    version: kv.VERSION ?? '',
    idLike: (kv.ID_LIKE ?? '').split(/\s+/).filter(Boolean),
    prettyName: kv.PRETTY_NAME ?? '',
    codename: (kv.VERSION_CODENAME ?? '').toLowerCase(),
    cpeName: kv.CPE_NAME ?? '',
    fields: kv,
  };
}

/**
 * The OSV ecosystem of the OS packages of an image with this os-release, '' when OSV has none for it
 * (the caller then falls back to the package manager's family). One rule set: purl.ts's
 * osvEcosystemFromOsRelease.
 */
export function osvEcosystem(os: OsRelease): string {
  return osvEcosystemFromOsRelease(os.fields) ?? '';
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
