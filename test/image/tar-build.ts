// Tar streams built in the tests (ustar headers written by hand, every type the image reader meets:
// files, directories, symlinks, hard links, devices, and names a safe writer would refuse), and image
// archives made of them: `docker save` layout and OCI image layout, optionally gzipped layers.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export type Entry =
  | { type: 'file'; name: string; data: string | Uint8Array }
  | { type: 'dir'; name: string }
  | { type: 'symlink'; name: string; target: string }
  | { type: 'hardlink'; name: string; target: string }
  | { type: 'chardev'; name: string };

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', chardev: '3', dir: '5' } as const;

function header(name: string, size: number, type: string, link = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write(link, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** A tar of the entries in the order given (order matters for layers). */
export function tar(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.type === 'file') {
      const data = typeof e.data === 'string' ? Buffer.from(e.data) : Buffer.from(e.data);
      parts.push(header(e.name, data.length, '0'), data, Buffer.alloc((512 - (data.length % 512)) % 512));
    } else {
      const link = e.type === 'symlink' || e.type === 'hardlink' ? e.target : '';
      parts.push(header(e.name, 0, TYPEFLAG[e.type], link));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string) => d.slice('sha256:'.length);

export function imageConfig(layers: Buffer[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map(sha256) }, ...extra }));
}

/** `docker save` layout: <hex>.json config, <n>/layer.tar per layer, manifest.json. */
export function dockerSave(layers: Buffer[], opts: { config?: Buffer; manifest?: unknown; extra?: Entry[] } = {}): Buffer {
  const config = opts.config ?? imageConfig(layers);
  const cfgName = `${hex(sha256(config))}.json`;
  const layerNames = layers.map((l) => `${hex(sha256(l))}/layer.tar`);
  const manifest = opts.manifest ?? [{ Config: cfgName, RepoTags: ['test:latest'], Layers: layerNames }];
  return tar([
    { type: 'file', name: cfgName, data: config },
    ...layers.flatMap((l, i): Entry[] => [{ type: 'dir', name: `${hex(sha256(l))}/` }, { type: 'file', name: layerNames[i], data: l }]),
    ...(opts.extra ?? []),
    { type: 'file', name: 'manifest.json', data: JSON.stringify(manifest) },
  ]);
}

/** OCI image layout: oci-layout, index.json → manifest → config + gzipped layers, all under blobs/sha256/. */
export function ociLayout(layers: Buffer[], opts: { layerMediaType?: string; gzip?: boolean; dropBlob?: 'config' | 'layer' } = {}): { files: Map<string, Buffer>; tar: Buffer; configDigest: string } {
  const gz = opts.gzip ?? true;
  const config = imageConfig(layers);
  const blobs = layers.map((l) => (gz ? gzipSync(l) : l));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: blobs.map((b) => ({
        mediaType: opts.layerMediaType ?? (gz ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar'),
        digest: sha256(b),
        size: b.length,
      })),
    }),
  );
  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length, platform: { os: 'linux', architecture: 'amd64' } }] }),
  );
  const files = new Map<string, Buffer>([
    ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
    ['index.json', index],
    [`blobs/sha256/${hex(sha256(manifest))}`, manifest],
  ]);
  if (opts.dropBlob !== 'config') files.set(`blobs/sha256/${hex(sha256(config))}`, config);
  blobs.forEach((b, i) => {
    if (!(opts.dropBlob === 'layer' && i === blobs.length - 1)) files.set(`blobs/sha256/${hex(sha256(b))}`, b);
  });
  const t = tar([...files].map(([name, data]): Entry => ({ type: 'file', name, data })));
  return { files, tar: t, configDigest: sha256(config) };
}
