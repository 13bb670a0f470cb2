// The OpenSSH server on loopback that .ci/run starts (.ci/services.sh start_sshd): its port, client key
// and user from STELLA_TEST_SSH_PORT / _KEY / _USER. Locally, when they are unset and CI is not, the
// helper starts one the same way (sourcing .ci/services.sh) and stops it after the file's tests.
// With CI=true and no server, it throws: a test that needs sshd fails, never skips.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { REPO } from './cli.js';

export interface SshServer {
  port: number;
  key: string;
  user: string;
}

export function requireSsh(): () => SshServer {
  let server: SshServer | null = null;
  let child: ChildProcess | null = null;
  beforeAll(async () => {
    const env = process.env;
    if (env.STELLA_TEST_SSH_PORT && env.STELLA_TEST_SSH_KEY && env.STELLA_TEST_SSH_USER) {
      server = { port: Number(env.STELLA_TEST_SSH_PORT), key: env.STELLA_TEST_SSH_KEY, user: env.STELLA_TEST_SSH_USER };
      return;
    }
    if (env.CI === 'true' || env.CI === '1') {
      throw new Error('CI=true but STELLA_TEST_SSH_PORT/KEY/USER are unset: .ci/run starts sshd (.ci/services.sh start_sshd) before the tests');
    }
    // Same start as CI; `read` holds the shell until afterAll closes its stdin, then the trap stops sshd.
    const script = `source ${JSON.stringify(path.join(REPO, '.ci/services.sh'))}; trap stop_services EXIT; start_sshd >&2 || exit 1; echo "$STELLA_TEST_SSH_PORT $STELLA_TEST_SSH_KEY $STELLA_TEST_SSH_USER"; read -r _`;
    const c = spawn('bash', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    child = c;
    let err = '';
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    server = await new Promise<SshServer>((resolve, reject) => {
      let out = '';
      c.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n')) {
          const [port, key, user] = line.trim().split(' ');
          resolve({ port: Number(port), key, user });
        }
      });
      c.on('exit', (code) => reject(new Error(`could not start sshd (exit ${code}): ${err.slice(-2000)}`)));
    });
  }, 60_000);
  afterAll(async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.on('exit', () => resolve());
      c.stdin?.end();
    });
  }, 30_000);
  return () => {
    if (!server) throw new Error('sshd is not running');
    return server;
  };
}

/** The ssh client command line for a command on the loopback server (a pty with -tt). */
export function sshCommand(s: SshServer, remote: string): string {
  const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
  return `ssh -tt -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i ${q(s.key)} -p ${s.port} ${s.user}@127.0.0.1 ${q(remote)}`;
}
