// .ci/services.sh, the part of .ci/run that starts the throwaway services: each one answers, and
// stop_services stops exactly what it started (the default engine keeps running).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { tempDir } from '../helpers/tmp.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const scratch = tempDir('stella-ci-svc-');

describe('.ci/services.sh', () => {
  it('starts PostgreSQL, a second dockerd and sshd, each answering; stop_services leaves nothing behind', async () => {
    await requireDocker();
    const sock = path.join(scratch, 'docker2.sock');
    // Run the functions the way .ci/run does, use each service, then print what was started so the
    // test can check it is gone afterwards.
    const script = `
      set -euo pipefail
      source .ci/services.sh
      trap stop_services EXIT
      start_postgres >&2; start_docker2 >&2; start_sshd >&2
      /usr/lib/postgresql/15/bin/psql -qAt -d "$STELLA_TEST_PG" -c 'select 40 + 2'
      DOCKER_HOST="$STELLA_TEST_DOCKER2" docker info --format '{{.DockerRootDir}}'
      ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i "$STELLA_TEST_SSH_KEY" \\
        -p "$STELLA_TEST_SSH_PORT" "$STELLA_TEST_SSH_USER@127.0.0.1" 'echo ssh-ok'
      echo "pids ${'$'}{STELLA_SVC_PIDS[*]}"
      echo "dirs ${'$'}{STELLA_SVC_DIRS[*]}"
      echo "pg $STELLA_PG_DATA"`;
    const r = spawnSync('bash', ['-c', script], { cwd: REPO, env: { ...process.env, STELLA_DOCKER2_SOCK: sock }, encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('42');
    expect(lines[1]).toMatch(/^\/tmp\/stella-docker2\.\w+\/data$/);
    expect(lines[2]).toBe('ssh-ok');
    const pids = lines[3].replace('pids ', '').split(' ').map((e) => Number(e.split(':')[1]));
    const dirs = lines[4].replace('dirs ', '').split(' ');
    expect(pids).toHaveLength(2); // docker2, sshd (postgres is stopped through pg_ctl)
    expect(dirs).toHaveLength(3);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    for (const dir of dirs) expect(existsSync(dir), dir).toBe(false);
    expect(existsSync(sock)).toBe(false);
    // No process is left running from the PostgreSQL data dir.
    const pgData = lines[5].replace('pg ', '');
    expect(pgData).toMatch(/^\/tmp\/stella-pg\.\w+\/data$/);
    const holders = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(pgData);
      } catch {
        return false;
      }
    });
    expect(holders).toEqual([]);
    expect(r.stderr).toMatch(/postgres up: STELLA_TEST_PG=postgres:\/\/postgres@\/postgres\?host=\/tmp\/stella-pg\./);
    // The engine the script did not start is untouched.
    await expect(new Docker().ping()).resolves.toBeTruthy();
  }, 240_000);
});
