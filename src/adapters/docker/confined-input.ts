// The scanner's inputs on an engine that does not share our filesystem (DOCKER_HOST=ssh:// or tcp://):
// a bind mount of a host path would name a path on the engine's machine, absent or something else. So
// each container directory that holds inputs (/job, /in, /feed, /policy, the chaos launcher's) becomes
// one labelled volume, filled through the engine's archive API while a short-lived holder container
// (same image as the output holder, no network, no capabilities, never started) has it mounted, then mounted ReadOnly
// in the scanner's container. Entries are owned by root, files 0444 and directories 0555: the scanner
// user can read them and nothing else. The archive streams one file at a time from disk (tarStream),
// so a feed bundle or an input archive of hundreds of MB never sits in memory.
//
// The scanner sees the same paths and the same bytes as with bind mounts, so its outputs and the
// replay's hashes do not depend on how the engine is reached. The volumes carry the run's labels, so
// reapOrphans/reapLabelled remove them after a SIGKILL like the output volume.
import { createReadStream, readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { StellaError } from '../../core/errors.js';
import type { ExecJob } from '../../core/ports.js';
import { call, type Engine } from './engine.js';
import { IMAGE_PATHS, IMAGE_USER } from './image-archive.js';
import { tarStream, type StreamEntry } from './tar-writer.js';

const FILE_MODE = 0o444;
const DIR_MODE = 0o555;
/** An empty volume never gets the image's files at that path copied in: it holds our inputs only. */
const NO_COPY = { NoCopy: true } as Docker.MountSettings['VolumeOptions'];

export interface ConfinedInput {
  /** Volume name → the container directory it is mounted at, read-only. */
  volumes: Array<{ volume: string; target: string }>;
}

/**
 * Group the read-only mounts by the container directory that receives them: a file mounted at
 * /feed/bundle.tar.zst is the entry bundle.tar.zst of the /feed volume; a directory mounted at /probe
 * is the /probe volume with its tree.
 */
export function inputVolumesOf(mounts: ExecJob['readOnlyMounts']): Map<string, StreamEntry[]> {
  const byDir = new Map<string, StreamEntry[]>();
  const add = (dir: string, e: StreamEntry) => {
    const list = byDir.get(dir) ?? [];
    if (list.some((x) => x.path === e.path)) throw new StellaError('USAGE', `two inputs are mounted at ${path.posix.join(dir, e.path)}`);
    list.push(e);
    byDir.set(dir, list);
  };
  for (const m of mounts) {
    const target = path.posix.normalize(m.containerPath);
    if (!target.startsWith('/') || target === '/') throw new StellaError('USAGE', `input mount target ${m.containerPath} is not an absolute path below /`);
    const st = statInput(m.hostPath);
    if (st.isDirectory()) {
      byDir.set(target, byDir.get(target) ?? []);
      for (const e of treeEntries(m.hostPath, '')) add(target, e);
    } else {
      const dir = path.posix.dirname(target);
      if (dir === '/') throw new StellaError('USAGE', `input mount target ${m.containerPath} is directly under /: mount it in a directory`);
      add(dir, fileEntry(m.hostPath, path.posix.basename(target), st));
    }
  }
  return byDir;
}

function statInput(hostPath: string): Stats {
  try {
    return statSync(hostPath);
  } catch (e) {
    throw new StellaError('USAGE', `input ${hostPath} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); it was to be copied to the engine`, {}, { cause: e });
  }
}

function fileEntry(hostPath: string, name: string, st: Stats): StreamEntry {
  if (!st.isFile()) throw new StellaError('USAGE', `input ${hostPath} is not a regular file or directory`);
  return { kind: 'file', path: name, mode: FILE_MODE, size: st.size, read: () => createReadStream(hostPath) };
}

/** A directory's tree (regular files and directories; anything else is refused), paths relative to it. */
function treeEntries(dir: string, rel: string): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (const d of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    const abs = path.join(dir, r);
    if (d.isDirectory()) out.push({ kind: 'dir', path: r, mode: DIR_MODE }, ...treeEntries(dir, r));
    else out.push(fileEntry(abs, r, statSync(abs)));
  }
  return out;
}

/** Create, fill and hand back the input volumes; on any failure nothing created here is left. */
export async function createConfinedInput(engine: Engine, imageId: string, mounts: ExecJob['readOnlyMounts'], labels: Record<string, string>): Promise<ConfinedInput> {
  const groups = [...inputVolumesOf(mounts)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const input: ConfinedInput = { volumes: [] };
  let holder: Docker.Container | null = null;
  try {
    const tag = `${process.pid}-${randomBytes(6).toString('hex')}`;
    for (const [target] of groups) {
      const volume = `stella-in-${tag}-${input.volumes.length}`;
      await call(engine, () => engine.docker.createVolume({ Name: volume, Driver: 'local', Labels: { ...labels, 'stella.role': 'input', 'stella.target': target } }));
      input.volumes.push({ volume, target });
    }
    holder = await call(engine, () =>
      engine.docker.createContainer({
        Image: imageId,
        // Never started: the archive API writes into the volumes of a created container.
        Entrypoint: [IMAGE_PATHS.node, '-e', '0'],
        Cmd: [],
        User: IMAGE_USER,
        WorkingDir: '/',
        NetworkDisabled: true,
        Labels: { ...labels, 'stella.role': 'input-holder' },
        HostConfig: {
          NetworkMode: 'none',
          // Writable only so the archive API accepts an extraction at '/' (the mountpoints' own modes);
          // nothing ever runs in this container and its layer goes with it.
          ReadonlyRootfs: false,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          PidsLimit: 16,
          Memory: 128 * 1024 * 1024,
          Mounts: input.volumes.map((v) => ({ Type: 'volume' as const, Source: v.volume, Target: v.target, ReadOnly: false, VolumeOptions: NO_COPY })),
          AutoRemove: false,
        },
      }),
    );
    // One archive for all of them, extracted at '/': each volume's mountpoint is an entry of its own, so
    // the volume's root directory becomes root-owned 0555 like everything under it.
    const all: StreamEntry[] = groups.flatMap(([target, entries]) => {
      const top = target.slice(1);
      return [{ kind: 'dir' as const, path: top, mode: DIR_MODE }, ...entries.map((e) => ({ ...e, path: `${top}/${e.path}` }))];
    });
    const h = holder;
    await call(engine, () => h.putArchive(Readable.from(tarStream(all)), { path: '/', noOverwriteDirNonDir: 'true' }));
  } catch (e) {
    // The holder first: a volume still mounted by a container cannot be removed.
    if (holder) await holder.remove({ force: true }).catch(() => undefined);
    await removeConfinedInput(engine, input);
    throw e;
  }
  await holder.remove({ force: true }).catch(() => undefined);
  return input;
}

/** The scanner container's read-only mounts of the input volumes. */
export function inputMounts(input: ConfinedInput): Docker.MountSettings[] {
  return input.volumes.map((v) => ({ Type: 'volume' as const, Source: v.volume, Target: v.target, ReadOnly: true, VolumeOptions: NO_COPY }));
}

export async function removeConfinedInput(engine: Engine, input: ConfinedInput): Promise<void> {
  for (const v of input.volumes) {
    await engine.docker
      .getVolume(v.volume)
      .remove({ force: true })
      .catch(() => undefined);
  }
}
