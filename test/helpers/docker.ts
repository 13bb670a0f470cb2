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
