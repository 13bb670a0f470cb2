// The throwaway services the multi-machine tests run on: a PostgreSQL 15 server and a second Docker
// engine distinct from the default one.
import Docker from 'dockerode';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { requirePostgres, withDatabase } from '../helpers/postgres.js';
import { requireSecondEngine } from '../helpers/docker.js';

const server = requirePostgres();
const second = requireSecondEngine();

describe('test services', () => {
  it('withDatabase swaps only the database of a socket URL', () => {
    expect(withDatabase('postgres://postgres@/postgres?host=/tmp/x', 'db1')).toBe('postgres://postgres@/db1?host=/tmp/x');
    expect(withDatabase('postgres://u:p@127.0.0.1:5433/a', 'b')).toBe('postgres://u:p@127.0.0.1:5433/b');
  });

  it('PostgreSQL 15 answers and hands out isolated databases', async () => {
    const [a, b] = [await server.freshDatabase(), await server.freshDatabase()];
    expect(a).not.toBe(b);
    const c = new pg.Client({ connectionString: a });
    await c.connect();
    try {
      const v = await c.query<{ server_version_num: string }>('show server_version_num');
      expect(Number(v.rows[0].server_version_num)).toBeGreaterThanOrEqual(150000);
      await c.query('create table only_in_a (x int)');
    } finally {
      await c.end();
    }
    const d = new pg.Client({ connectionString: b });
    await d.connect();
    try {
      const r = await d.query("select to_regclass('only_in_a') as t");
      expect(r.rows[0].t).toBeNull();
    } finally {
      await d.end();
    }
  }, 120_000);

  it('the second Docker engine is a different engine from the default one', async () => {
    const first = new Docker();
    const [one, two] = await Promise.all([first.info(), second.docker.info()]);
    // (Both engines read /etc/docker/key.json, so their IDs can match: the state is what differs.)
    expect(two.DockerRootDir).not.toBe(one.DockerRootDir);
    const name = `stella-test-engine2-${process.pid}`;
    await second.docker.createVolume({ Name: name });
    try {
      const onTwo = await second.docker.listVolumes({ filters: JSON.stringify({ name: [name] }) });
      const onOne = await first.listVolumes({ filters: JSON.stringify({ name: [name] }) });
      expect((onTwo.Volumes ?? []).map((v) => v.Name)).toEqual([name]);
      expect(onOne.Volumes ?? []).toEqual([]);
    } finally {
      await second.docker.getVolume(name).remove();
    }
  }, 120_000);
});
