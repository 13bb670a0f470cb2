// The replay's one writable mount, confined (issue 14): a tmpfs volume with a size, so a scanner
// cannot fill the host's disk, that the host never reads in place. A small holder container (same
// image, same lockdown, running only a sleep) keeps the tmpfs mounted after the scanner exits; the host
// then takes the output back as the engine's tar of /out and keeps only regular files — a symlink,
// hard link, FIFO, socket or device makes the run fail naming the entry — within the byte cap.
import { closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { StellaError, isStellaError } from '../../core/errors.js';
import { TarReader } from '../tar.js';
import { call, type Engine } from './engine.js';
import { IMAGE_PATHS, IMAGE_USER } from './image-archive.js';

/** Default size of the writable /out mount (`stella replay --out-cap`, STELLA_OUT_CAP). */
export const DEFAULT_OUT_CAP_BYTES = 256 * 1024 * 1024;
const MAX_OUT_ENTRIES = 10_000;

export interface ConfinedOutput {
  volume: string;
  holder: Docker.Container;
}

export async function createConfinedOutput(engine: Engine, imageId: string, capBytes: number, labels: Record<string, string>): Promise<ConfinedOutput> {
  const volume = `stella-out-${process.pid}-${randomBytes(6).toString('hex')}`;
  await call(engine, () =>
    engine.docker.createVolume({
      Name: volume,
      Driver: 'local',
      DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: `size=${capBytes},uid=65534,gid=65534,mode=0700,nosuid,nodev,noexec` },
      Labels: labels,
    }),
  );
  let holder: Docker.Container | null = null;
  try {
    holder = await call(engine, () =>
      engine.docker.createContainer({
        Image: imageId,
        Entrypoint: [IMAGE_PATHS.node, '-e', 'setInterval(() => {}, 1 << 30)'],
        Cmd: [],
        User: IMAGE_USER,
        WorkingDir: '/',
        NetworkDisabled: true,
        Labels: { ...labels, 'stella.role': 'output-holder' },
        HostConfig: {
          NetworkMode: 'none',
          ReadonlyRootfs: true,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          PidsLimit: 16,
          Memory: 128 * 1024 * 1024,
          Mounts: [{ Type: 'volume', Source: volume, Target: IMAGE_PATHS.output, ReadOnly: true }],
          AutoRemove: false,
        },
      }),
    );
    await call(engine, () => holder!.start());
    return { volume, holder };
  } catch (e) {
    if (holder) await holder.remove({ force: true }).catch(() => undefined);
    await engine.docker.getVolume(volume).remove({ force: true }).catch(() => undefined);
    throw e;
  }
}

export async function removeConfinedOutput(engine: Engine, out: ConfinedOutput): Promise<void> {
  await out.holder.remove({ force: true, v: true }).catch(() => undefined);
  await engine.docker
    .getVolume(out.volume)
    .remove({ force: true })
    .catch(() => undefined);
}

/**
 * Copy /out back into hostDir: the engine's tar of the tmpfs, read by the defensive tar reader (links,
 * devices, FIFOs, `..` and absolute names refused), each file created with O_EXCL|O_NOFOLLOW. Returns
 * null on success, or why the output was refused (naming the entry).
 */
export async function takeBackOutput(engine: Engine, out: ConfinedOutput, hostDir: string, capBytes: number): Promise<string | null> {
  const stream = (await call(engine, () => out.holder.getArchive({ path: `${IMAGE_PATHS.output}/.` }))) as NodeJS.ReadableStream;
  const reader = new TarReader({ maxBytes: capBytes, maxEntries: MAX_OUT_ENTRIES, file: '/out' }, (e) => {
    const segs = e.path.split('/');
    // The archive of `/out/.` names entries `./x` or `x`; the reader already dropped `.` segments.
    const target = path.join(hostDir, ...segs);
    mkdirSync(path.dirname(target), { recursive: true });
    const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      let off = 0;
      while (off < e.data.length) off += writeSync(fd, e.data, off, e.data.length - off);
    } finally {
      closeSync(fd);
    }
  });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) reader.push(chunk);
    reader.end();
    return null;
  } catch (e) {
    if (isStellaError(e)) return `the scanner's output was refused: ${e.message.replace(/^tar /, '')}`;
    throw e;
  }
}

/** Parse `--out-cap` / STELLA_OUT_CAP: bytes, or with a K/M/G suffix (binary). */
export function parseOutCap(v: string | undefined, what = '--out-cap'): number {
  if (v === undefined || v === '') return DEFAULT_OUT_CAP_BYTES;
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(v.trim());
  if (!m) throw new StellaError('USAGE', `${what} ${v}: expected a size such as 256M or 1G`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m[2] ?? '').charAt(0).toUpperCase() as '' | 'K' | 'M' | 'G'];
  const n = Number(m[1]) * mult;
  if (n < 1024 * 1024) throw new StellaError('USAGE', `${what} ${v}: at least 1M`);
  return n;
}
