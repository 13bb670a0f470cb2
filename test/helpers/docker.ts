// Docker-backed tests never skip: under CI=true a missing engine is a failure, and locally too,
// because a skipped test proves nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll } from 'vitest';

export async function requireDocker(): Promise<Docker> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(
      `Docker engine unreachable (${(e as Error).message}); start it with ` +
        '`dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false &` (CI=' +
        (process.env.CI ?? 'unset') + ')',
    );
  }
  return docker;
}

/**
 * The second engine for multi-engine tests: STELLA_TEST_DOCKER2 (CI starts it, see .ci/services.sh), else
 * a dockerd this helper starts with its own socket, data-root, exec-root and pidfile (no bridge), stopped
 * after the file's tests. Call it at the top level of the test file (it registers beforeAll/afterAll);
 * the beforeAll throws (never skips) when neither is possible.
 */
export function requireSecondEngine(): { readonly host: string; readonly docker: Docker } {
  const fromHost = (host: string) => new Docker({ socketPath: host.replace(/^unix:\/\//, '') });
  let host: string | undefined;
  let docker: Docker | undefined;
  let child: ChildProcess | null = null;
  let exited: string | null = null;
  let dir: string | null = null;
  const stop = async () => {
    if (child && exited === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000))]);
      if (exited === null) child.kill('SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  beforeAll(async () => {
    const given = process.env.STELLA_TEST_DOCKER2;
    if (given) {
      const d = fromHost(given);
      try {
        await d.ping();
      } catch (e) {
        throw new Error(`second Docker engine STELLA_TEST_DOCKER2=${given} unreachable (${(e as Error).message})`);
      }
      [host, docker] = [given, d];
      return;
    }
    dir = mkdtempSync(path.join(tmpdir(), 'stella-docker2-'));
    const own = `unix://${dir}/docker.sock`;
    child = spawn('dockerd', ['-H', own, '--data-root', `${dir}/data`, '--exec-root', `${dir}/exec`, '--pidfile', `${dir}/docker.pid`,
      '--bridge=none', '--iptables=false', '--ip-forward=false', '--ip-masq=false'], { stdio: 'ignore' });
    child.on('error', (e) => (exited = e.message));
    child.on('exit', (code, sig) => (exited = `exited ${code ?? sig}`));
    const d = fromHost(own);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await d.ping();
        break;
      } catch (e) {
        if (exited !== null || Date.now() > deadline) {
          await stop();
          throw new Error(`cannot start a second dockerd (${exited ?? (e as Error).message}); CI exports STELLA_TEST_DOCKER2 from .ci/services.sh (CI=${process.env.CI ?? 'unset'})`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    [host, docker] = [own, d];
  }, 90_000);
  afterAll(stop, 30_000);
  const up = () => {
    if (!host || !docker) throw new Error('requireSecondEngine(): the engine is not up (call it at the top level of the test file)');
    return { host, docker };
  };
  return {
    get host() {
      return up().host;
    },
    get docker() {
      return up().docker;
    },
  };
}
