// Temp directories: every one this process makes lives under one per-process root,
// $TMPDIR/stella-<pid>-<random>, removed when the process exits normally. A process that is killed
// (SIGKILL, OOM, power loss) cannot clean up, so the first temp dir any later stella makes removes the
// roots whose process is gone — the same rule that reaps orphan containers.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
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

/** Remove per-process roots under base whose process no longer exists; returns how many. */
export function reapTempRoots(base = os.tmpdir()): number {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return 0;
  }
  let reaped = 0;
  for (const name of names) {
    const m = ROOT_RE.exec(name);
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
