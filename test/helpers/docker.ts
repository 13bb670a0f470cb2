// Docker-backed tests never skip: under CI=true a missing engine is a failure, and locally too,
// because a skipped test proves nothing.
import Docker from 'dockerode';

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
 * after the file's tests. Throws (never skips) when neither is possible.
 */
export async function requireSecondEngine(): Promise<{ host: string; docker: Docker }> {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { afterAll } = await import('vitest');
  const fromHost = (host: string) => new Docker({ socketPath: host.replace(/^unix:\/\//, '') });
  let host = process.env.STELLA_TEST_DOCKER2;
  if (host) {
    const docker = fromHost(host);
    try {
      await docker.ping();
    } catch (e) {
      throw new Error(`second Docker engine STELLA_TEST_DOCKER2=${host} unreachable (${(e as Error).message})`);
    }
    return { host, docker };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-docker2-'));
  host = `unix://${dir}/docker.sock`;
  const child = spawn('dockerd', ['-H', host, '--data-root', `${dir}/data`, '--exec-root', `${dir}/exec`, '--pidfile', `${dir}/docker.pid`,
    '--bridge=none', '--iptables=false', '--ip-forward=false', '--ip-masq=false'], { stdio: 'ignore' });
  let exited: string | null = null;
  child.on('error', (e) => (exited = e.message));
  child.on('exit', (code, sig) => (exited = `exited ${code ?? sig}`));
  const stop = async () => {
    if (exited === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000))]);
      if (exited === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const docker = fromHost(host);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await docker.ping();
      break;
    } catch (e) {
      if (exited !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`cannot start a second dockerd (${exited ?? (e as Error).message}); CI exports STELLA_TEST_DOCKER2 from .ci/services.sh (CI=${process.env.CI ?? 'unset'})`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  afterAll(stop, 30_000);
  return { host, docker };
}
