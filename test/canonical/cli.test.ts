// `stella canon` as a user runs it: the built CLI in a child process.
import { beforeAll, describe, expect, it } from 'vitest';
import { closeSync, ftruncateSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runStella, STELLA_BIN, THIRD_PARTY } from '../helpers/cli.js';
import { listFiles, tempDir } from '../helpers/tmp.js';
import { canonicalizeArtifact } from '../../src/core/canonical/index.js';

const SBOM = path.join(THIRD_PARTY, 'sboms/cyclonedx/juice-shop-14.1.1.npm.cdx-1.6.json');
const VEX = path.join(THIRD_PARTY, 'vex/vexctl/examples/openvex/demo.vex.json');

beforeAll(() => {
  // Fail loudly (not skip) when the CLI was not built: `npx tsc -p .` first.
  readFileSync(STELLA_BIN);
});

describe('stella canon', () => {
  const dir = tempDir('stella-canon-');

  it('prints exactly the canonical bytes when piped (no trailing newline)', async () => {
    const doc = JSON.parse(readFileSync(SBOM, 'utf8'));
    const expected = canonicalizeArtifact('cyclonedx-1.6', doc);
    const r = await runStella(['canon', SBOM]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Buffer.from(r.stdout, 'utf8').equals(expected.bytes)).toBe(true);
    expect(`sha256:${createHash('sha256').update(r.stdout, 'utf8').digest('hex')}`).toBe(expected.digest);
  });

  it('--hash prints `sha256:<hex>  FILE`, equal to the hash of the piped bytes', async () => {
    const doc = JSON.parse(readFileSync(VEX, 'utf8'));
    const r = await runStella(['canon', VEX, '--hash']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${canonicalizeArtifact('openvex-0.2.0', doc).digest}  ${VEX}\n`);
  });

  it('--schema none keeps volatile fields; auto removes them', async () => {
    const file = path.join(dir, 'tiny.cdx.json');
    writeFileSync(file, '{"specVersion":"1.6","bomFormat":"CycloneDX","serialNumber":"urn:uuid:x","components":[{"name":"b","purl":"pkg:npm/b@1"},{"name":"a","purl":"pkg:npm/a@1"}]}');
    const auto = await runStella(['canon', file]);
    expect(auto.stdout).toBe('{"bomFormat":"CycloneDX","components":[{"name":"a","purl":"pkg:npm/a@1"},{"name":"b","purl":"pkg:npm/b@1"}],"specVersion":"1.6"}');
    const none = await runStella(['canon', file, '--schema', 'none']);
    expect(none.stdout).toBe('{"bomFormat":"CycloneDX","components":[{"name":"b","purl":"pkg:npm/b@1"},{"name":"a","purl":"pkg:npm/a@1"}],"serialNumber":"urn:uuid:x","specVersion":"1.6"}');
    const explicit = await runStella(['canon', file, '--schema', 'cyclonedx']);
    expect(explicit.stdout).toBe(auto.stdout);
  });

  it('resolves FILE against the working directory and names it as typed', async () => {
    const r = await runStella(['canon', 'tiny.cdx.json', '--hash'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64} {2}tiny\.cdx\.json\n$/);
  });

  it('agrees with the RFC 8785 vectors end to end', async () => {
    const input = path.join(THIRD_PARTY, 'jcs/input/weird.json');
    const r = await runStella(['canon', input, '--schema', 'none']);
    expect(Buffer.from(r.stdout, 'utf8').equals(readFileSync(path.join(THIRD_PARTY, 'jcs/output/weird.json')))).toBe(true);
  });

  it('ends a TTY print with a newline (run under script(1) for a real pseudo-terminal)', () => {
    const r = spawnSync('script', ['-qec', `${process.execPath} ${STELLA_BIN} canon ${path.join(THIRD_PARTY, 'jcs/input/arrays.json')}`, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status).toBe(0);
    const expected = readFileSync(path.join(THIRD_PARTY, 'jcs/output/arrays.json'), 'utf8');
    expect(r.stdout.replace(/\r\n/g, '\n')).toBe(`${expected}\n`);
  });

  describe('bad input: one line naming file and JSON path, exit 2, nothing on stdout', () => {
    const expectOneLineError = (r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) => {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.endsWith('\n')).toBe(true);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    };

    it('truncated JSON (a real SBOM cut in half)', async () => {
      const file = path.join(dir, 'truncated.cdx.json');
      const bytes = readFileSync(SBOM);
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const r = await runStella(['canon', file]);
      expectOneLineError(r, new RegExp(`^stella canon: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\$\\.components\\[\\d+\\][^:]*: truncated JSON`));
    });

    it('invalid UTF-8', async () => {
      const file = path.join(dir, 'latin1.json');
      writeFileSync(file, Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]));
      const r = await runStella(['canon', file]);
      expectOneLineError(r, /^stella canon: .*latin1\.json: \$: invalid UTF-8 at byte 12\n$/);
    });

    it('missing file', async () => {
      const r = await runStella(['canon', 'does-not-exist.json'], { cwd: dir });
      expectOneLineError(r, /^stella canon: does-not-exist\.json: \$: no such file\n$/);
    });

    it('oversized file (sparse, over the 512 MiB cap: refused before reading)', async () => {
      const file = path.join(dir, 'huge.json');
      const fd = openSync(file, 'w');
      ftruncateSync(fd, 512 * 1024 * 1024 + 1);
      closeSync(fd);
      const r = await runStella(['canon', file]);
      expectOneLineError(r, /^stella canon: .*huge\.json: \$: file is 536870913 bytes, over the 536870912-byte limit\n$/);
    });

    it('a JSON number the document cannot carry through JCS (1e400 parses to Infinity)', async () => {
      const file = path.join(dir, 'inf.json');
      writeFileSync(file, '{"bomFormat":"CycloneDX","components":[{"name":"x","version":1e400}]}');
      const r = await runStella(['canon', file]);
      expectOneLineError(r, /^stella canon: .*inf\.json: \$\.components\[0\]\.version: cannot canonicalize: Infinity is not a JSON number\n$/);
    });

    it('an escaped lone surrogate (valid JSON text, but no UTF-8 form to hash)', async () => {
      const file = path.join(dir, 'surrogate.json');
      writeFileSync(file, '{"schema":"stella-findings/v1","findings":[{"summary":"ok"},{"summary":"bad \\ud800"}]}');
      const r = await runStella(['canon', file]);
      expectOneLineError(r, /^stella canon: .*surrogate\.json: \$\.findings\[1\]\.summary: cannot canonicalize: string contains a lone UTF-16 surrogate\n$/);
    });

    it('an explicit schema that does not fit the document', async () => {
      const file = path.join(dir, 'array.json');
      writeFileSync(file, '[1,2]');
      const r = await runStella(['canon', file, '--schema', 'findings']);
      expectOneLineError(r, /^stella canon: .*array\.json: \$: expected a JSON object for schema stella-findings-v1\n$/);
    });

    it('unknown --schema and missing FILE are usage errors', async () => {
      expectOneLineError(await runStella(['canon', SBOM, '--schema', 'spdx']), /unknown --schema 'spdx'/);
      expectOneLineError(await runStella(['canon']), /needs exactly one FILE/);
    });

    it('writes no files', () => {
      expect(listFiles(dir)).toEqual(['array.json', 'huge.json', 'inf.json', 'latin1.json', 'surrogate.json', 'tiny.cdx.json', 'truncated.cdx.json']);
    });
  });
});
