// B7 of issue 14: a DOCKER_HOST that answers HTTP but is not the Docker Engine API gets exactly one
// line, "DOCKER_HOST=… answers, but is not a Docker engine", and exit 2 — never the server's HTML.
import { describe, expect, it, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { tempDir } from '../helpers/tmp.js';
import { runStella } from '../helpers/cli.js';
import { writeManifest } from '../docker/support.js';

const home = tempDir('stella-engine-identity-');
const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

function serve(listen: (s: Server, done: () => void) => void, handler: Parameters<typeof createServer>[0]): Promise<Server> {
  const s = createServer(handler);
  servers.push(s);
  return new Promise((resolve) => listen(s, () => resolve(s)));
}
const html = '<!DOCTYPE html>\n<html>\n<head><title>404 Not Found</title></head>\n<body>\n<h1>Not Found</h1>\n<p>nothing here</p>\n</body>\n</html>\n'.repeat(2);

describe('B7: engine identity', () => {
  it('an HTTP server on 127.0.0.1 answering 404 with HTML: one line, exit 2', { timeout: 60_000 }, async () => {
    const s = await serve((srv, done) => srv.listen(0, '127.0.0.1', done), (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end(html);
    });
    const host = `tcp://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const { file } = writeManifest(home, path.join(home, 'scans/a'), { imageId: 'sha256:' + '1'.repeat(64) });
    const r = await runStella(['replay', '--from', file, '--out-dir', path.join(home, 'out-a')], { env: { STELLA_HOME: home, DOCKER_HOST: host }, timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`stella replay: DOCKER_HOST=${host} answers, but is not a Docker engine (GET /_ping gave HTTP 404); point DOCKER_HOST at a Docker Engine API`]);
  });

  it('a unix-socket server answering 200 with a web page: one line, exit 2', { timeout: 60_000 }, async () => {
    const sock = path.join(home, 'web.sock');
    await serve((srv, done) => srv.listen(sock, done), (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    });
    const host = `unix://${sock}`;
    const { file } = writeManifest(home, path.join(home, 'scans/b'), { imageId: 'sha256:' + '2'.repeat(64) });
    const r = await runStella(['replay', '--from', file, '--out-dir', path.join(home, 'out-b')], { env: { STELLA_HOME: home, DOCKER_HOST: host }, timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`stella replay: DOCKER_HOST=${host} answers, but is not a Docker engine (GET /_ping did not answer OK); point DOCKER_HOST at a Docker Engine API`]);
  });
});
