// Memory (issue 14): a scanner the engine kills for exceeding its memory limit is reported as an OOM
// kill with the limit (Docker's State.OOMKilled), not as "scanner exited with 137: no output".
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { DockerExecutor } from '../../src/adapters/docker/executor.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { replay } from '../../src/app/replay.js';
import { requireDocker } from '../helpers/docker.js';
import { tempDir } from '../helpers/tmp.js';
import { buildScriptImage, engine, writeManifest } from '../docker/support.js';

describe('an OOM kill in a replay is reported as such', () => {
  const home = tempDir('stella-oom-');
  let image: string;
  beforeAll(async () => {
    await requireDocker();
    image = await buildScriptImage(home, 'const keep = [];\nfor (;;) keep.push(Buffer.alloc(1 << 20, 1));\n');
  });

  it('64 MiB limit, a scanner that allocates without end: status error naming OOM and the limit', { timeout: 180_000 }, async () => {
    const { file } = writeManifest(home, path.join(home, 'scans/oom'), { imageId: image });
    const executor = await DockerExecutor.create(engine());
    const r = await replay({
      manifestPath: file,
      outDir: path.join(home, 'out'),
      executor,
      blobs: new BlobStore(home),
      now: () => new Date('2026-01-10T10:00:00Z'),
      env: { STELLA_HOME: home },
      memoryBytes: 64 * 1024 * 1024,
    });
    expect(r.record.status).toBe('error');
    expect(r.record.error).toBe(
      "scanner was killed for running out of memory (OOM: the engine's limit is 67108864 bytes, 64 MiB); the scan needs more memory than the replay allows",
    );
  });
});
