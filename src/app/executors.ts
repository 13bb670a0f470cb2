// The one place executors are built: the CLI commands and the workstation's re-run ask for one by kind.
import { StellaError } from '../core/errors.js';
import type { Digest } from '../core/formats.js';
import type { Executor } from '../core/ports.js';
import type { BlobStore } from '../adapters/blob-store.js';
import { engineFromEnv } from '../adapters/docker/engine.js';
import { DockerExecutor, type DockerExecutorOptions } from '../adapters/docker/executor.js';
import { LocalExecutor } from '../adapters/local-executor.js';
import { ensureImage, scannerEntryPath } from './image.js';

export interface ExecutorSetup {
  executor: Executor;
  prepareImage?: (imageId: Digest) => Promise<unknown>;
}

/** Build the chosen executor; the docker one pings the engine and reaps orphans first. */
export async function makeExecutor(kind: string, ctx: { env: NodeJS.ProcessEnv }, blobs: BlobStore, docker: DockerExecutorOptions = {}): Promise<ExecutorSetup> {
  switch (kind) {
    case 'docker': {
      const engine = engineFromEnv(ctx.env);
      const executor = await DockerExecutor.create(engine, docker);
      return { executor, prepareImage: (id) => ensureImage(id, { blobs, engine }) };
    }
    case 'local':
      return { executor: new LocalExecutor({ entry: scannerEntryPath(), env: ctx.env }) };
    default:
      throw new StellaError('USAGE', `--executor ${kind}: expected docker or local`);
  }
}
