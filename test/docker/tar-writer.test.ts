// The image tar writer: same entries in any order → same bytes; readable by GNU tar, long paths and
// link targets included.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listTar, tarChunks, type TarEntry } from '../../src/adapters/docker/tar-writer.js';
import { faketimeEnv } from '../../src/adapters/docker/clock-env.js';
import { tempDir } from '../helpers/tmp.js';
import { LOCKFILE } from './support.js';

const longDir = 'app/node_modules/' + 'a-very-long-package-directory-name/'.repeat(5);
const entries: TarEntry[] = [
  { kind: 'dir', path: '/tmp', mode: 0o1777 },
  { kind: 'file', path: '/usr/local/bin/tool', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
  { kind: 'symlink', path: '/lib64', target: 'usr/lib64' },
  { kind: 'file', path: `/${longDir}index.js`, mode: 0o644, data: readFileSync(LOCKFILE) },
  { kind: 'symlink', path: '/long-link', target: '/' + longDir + 'index.js' },
  { kind: 'file', path: '/etc/passwd', mode: 0o644, data: [Buffer.from('nobody:x:65534:'), Buffer.from('65534::/:/sbin/nologin\n')] },
];

describe('tar writer', () => {
  it('is deterministic and order-independent', () => {
    const a = tarChunks(entries);
    const b = tarChunks([...entries].reverse());
    expect(a.digest).toBe(b.digest);
    expect(Buffer.concat(a.chunks).equals(Buffer.concat(b.chunks))).toBe(true);
    expect(a.size % 512).toBe(0);
    const names = listTar(Buffer.concat(a.chunks)).map((e) => e.name);
    expect(names).toEqual([...names].sort());
  });

  it('GNU tar extracts it: modes, symlinks, long paths (PAX), split data, mtime 0', () => {
    const dir = tempDir('stella-tar-');
    const file = path.join(dir, 'x.tar');
    writeFileSync(file, Buffer.concat(tarChunks(entries).chunks));
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const r = spawnSync('tar', ['-xf', file, '-C', root]);
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(statSync(path.join(root, 'usr/local/bin/tool')).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(root, 'usr/local/bin/tool')).mtimeMs).toBe(0);
    expect(readlinkSync(path.join(root, 'lib64'))).toBe('usr/lib64');
    expect(readFileSync(path.join(root, longDir, 'index.js')).equals(readFileSync(LOCKFILE))).toBe(true);
    expect(readlinkSync(path.join(root, 'long-link'))).toBe('/' + longDir + 'index.js');
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toBe('nobody:x:65534:65534::/:/sbin/nologin\n');
  });

  it('refuses two different entries for one path', () => {
    expect(() =>
      tarChunks([
        { kind: 'file', path: '/a', mode: 0o644, data: Buffer.from('1') },
        { kind: 'file', path: '/a', mode: 0o644, data: Buffer.from('2') },
      ]),
    ).toThrow(/conflicting entries for a/);
  });
});

describe('frozen clock environment', () => {
  it('hands libfaketime epoch seconds (TZ-independent) with the milliseconds kept', () => {
    expect(faketimeEnv('2025-12-12T10:15:30Z', '/lib/ft.so')).toEqual({
      LD_PRELOAD: '/lib/ft.so',
      FAKETIME_FMT: '%s',
      FAKETIME: '1765534530.000',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    });
    expect(faketimeEnv('2025-12-12T11:15:30.045+01:00', '/x').FAKETIME).toBe('1765534530.045');
  });
});
