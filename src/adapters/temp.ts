// Temp directories: every one this process makes lives under one per-process root,
// $TMPDIR/stella-<pid>-<random>, removed when the process exits normally. A process that is killed
// (SIGKILL, OOM, power loss) cannot clean up, so the first temp dir any later stella makes removes the
// roots whose process is gone — the same rule that reaps orphan containers.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os, { hostname } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

const ROOT_RE = /^stella-(\d+)-[0-9a-f]{8}$/;
let root: string | null = null;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Remove per-process roots under base whose process no longer exists; returns how many. With `host`,
 * only roots named `stella-<host>-<pid>-…` (a directory other hosts share: a pid means nothing there).
 */
export function reapTempRoots(base = os.tmpdir(), host?: string): number {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return 0;
  }
  let reaped = 0;
  const prefix = host === undefined ? 'stella-' : `stella-${host}-`;
  for (const name of names) {
    const m = name.startsWith(prefix) ? ROOT_RE.exec(`stella-${name.slice(prefix.length)}`) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    try {
      rmSync(path.join(base, name), { recursive: true, force: true });
      reaped++;
    } catch {
      /* another stella reaped it first, or it is not ours to remove */
    }
  }
  return reaped;
}

/** This process's temp root (created, and dead processes' roots reaped, on first use). */
export function processTempRoot(): string {
  if (root) return root;
  const base = os.tmpdir();
  reapTempRoots(base);
  const dir = path.join(base, `stella-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  root = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh temp directory under this process's root. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(path.join(processTempRoot(), prefix));
}

const storeRoots = new Map<string, string>();

/** This host's name as a file-name part. */
function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'host';
}

/**
 * A fresh temp directory under `<home>/tmp/stella-<host>-<pid>-<random>/`: for what a Docker engine
 * bind-mounts (a replay's manifest). The engine must see the store anyway (blobs are bind-mounted from
 * it), while it may not see this process's $TMPDIR (systemd PrivateTmp=, a pod's own /tmp emptyDir, a
 * mount namespace). Roots of dead processes of this host are reaped like $TMPDIR's; the host is in the
 * name because several hosts may share one store.
 */
export function makeStoreTempDir(home: string, prefix: string): string {
  const base = path.join(path.resolve(home), 'tmp');
  let dir = storeRoots.get(base);
  if (!dir) {
    mkdirSync(base, { recursive: true });
    const host = hostTag();
    reapTempRoots(base, host);
    const created = path.join(base, `stella-${host}-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(created, { mode: 0o700 });
    process.once('exit', () => rmSync(created, { recursive: true, force: true }));
    storeRoots.set(base, created);
    dir = created;
  }
  return mkdtempSync(path.join(dir, prefix));
}
