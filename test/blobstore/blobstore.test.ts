import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { runStella, THIRD_PARTY, REPO } from '../helpers/cli.js';
import { tempDir, listFiles } from '../helpers/tmp.js';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('BlobStore', () => {
  const home = tempDir();
  const store = new BlobStore(home);
  const sbom = readFileSync(path.join(THIRD_PARTY, 'sboms/cyclonedx/sbomqs-with-vulns.gomod.cdx-1.6.json'));

  it('puts content-addressed, idempotently, under blobs/sha256/aa/rest', () => {
    const d = store.put(sbom);
    expect(d).toBe(sha(sbom));
    expect(store.put(sbom)).toBe(d);
    const hex = d.slice(7);
    expect(existsSync(path.join(home, 'blobs/sha256', hex.slice(0, 2), hex.slice(2)))).toBe(true);
    expect(store.get(d).equals(sbom)).toBe(true);
    expect(store.has(d)).toBe(true);
    expect(store.list()).toEqual([d]);
    // no temp files left behind
    expect(listFiles(home).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('verifies the digest on every read: a blob whose bytes changed is refused', () => {
    const d = store.put(Buffer.from('{"a":1}'));
    writeFileSync(store.location(d), '{"a":2}');
    expect(() => store.get(d)).toThrowError(/blob bytes no longer match their digest/);
    expect(() => store.pathOf(d)).toThrowError(/no longer match/);
  });

  it('names the digest and how to restore a missing blob', () => {
    const d = sha(Buffer.from('never stored'));
    expect(() => store.get(d)).toThrowError(new RegExp(`${d} is not in the store; restore it with`));
  });

  it('putFile streams real files and matches sha256sum', async () => {
    const f = path.join(THIRD_PARTY, 'sboms/cyclonedx/juice-shop-14.1.1.npm.cdx-1.6.json');
    const d = await store.putFile(f);
    expect(d).toBe(sha(readFileSync(f)));
  });

  it('two processes storing the same blob at once both succeed and the blob is intact', async () => {
    const h2 = tempDir();
    const f = path.join(THIRD_PARTY, 'sboms/cyclonedx/juice-shop-14.1.1.npm.cdx-1.6.json');
    const runs = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<number | null>((resolve) => {
            const c = spawn(process.execPath, [path.join(REPO, 'dist/bin/stella.js'), 'blob', 'put', f], { env: { ...process.env, STELLA_HOME: h2 } });
            c.on('close', resolve);
          }),
      ),
    );
    expect(runs).toEqual([0, 0, 0]);
    const s2 = new BlobStore(h2);
    expect(s2.list()).toEqual([sha(readFileSync(f))]);
    expect(s2.get(sha(readFileSync(f))).length).toBe(readFileSync(f).length);
  });
});

describe('stella blob (CLI)', () => {
  const home = tempDir();
  const env = { STELLA_HOME: home };

  it('put / has / get round trip', async () => {
    const f = path.join(THIRD_PARTY, 'jcs/input/french.json');
    const put = await runStella(['blob', 'put', f], { env });
    expect(put.code).toBe(0);
    const d = put.stdout.split(/\s+/)[0];
    expect(d).toBe(sha(readFileSync(f)));
    expect((await runStella(['blob', 'has', d], { env })).code).toBe(0);
    const out = path.join(home, 'copy.json');
    expect((await runStella(['blob', 'get', d, '--out', out], { env })).code).toBe(0);
    expect(readFileSync(out).equals(readFileSync(f))).toBe(true);
  });

  it('a corrupt blob: one line naming the blob file, exit 2, nothing written', async () => {
    const store = new BlobStore(home);
    const d = store.put(Buffer.from('original bytes'));
    writeFileSync(store.location(d), 'tampered bytes');
    const out = path.join(home, 'never.bin');
    const before = listFiles(home);
    const r = await runStella(['blob', 'get', d, '--out', out], { env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${store.location(d)}: blob bytes no longer match their digest: expected ${d}`);
    expect(listFiles(home)).toEqual(before);
    const v = await runStella(['blob', 'verify'], { env });
    expect(v.code).toBe(2);
  });

  it('a malformed digest is refused', async () => {
    const r = await runStella(['blob', 'get', 'sha256:XYZ'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'sha256:XYZ' is not a digest");
  });
});
