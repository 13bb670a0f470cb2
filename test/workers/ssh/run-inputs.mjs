// Run by ssh-engine.test.ts in its own process (peak RSS measured by maxrss-preload.mjs): one
// DockerExecutor run on the engine DOCKER_HOST names, with a large file and a directory tree as
// read-only inputs; the container reports what it sees of them. argv: IMAGE_ID BIG TREE OUT
import { engineFromEnv } from '../../../dist/src/adapters/docker/engine.js';
import { DockerExecutor } from '../../../dist/src/adapters/docker/executor.js';
import { IMAGE_PATHS } from '../../../dist/src/adapters/docker/image-archive.js';

const [imageId, big, tree, out] = process.argv.slice(2);
const inside = `
const fs = require('fs'), crypto = require('crypto');
const st = (p) => { const s = fs.statSync(p); return [p, (s.mode & 0o7777).toString(8), s.uid, s.gid]; };
const h = crypto.createHash('sha256');
const fd = fs.openSync('/big/blob.bin', 'r');
const b = Buffer.alloc(1 << 20);
let n;
while ((n = fs.readSync(fd, b)) > 0) h.update(b.subarray(0, n));
const w = (p) => { try { fs.writeFileSync(p, 'x'); return 'ok'; } catch (e) { return e.code; } };
console.log(JSON.stringify({
  stats: ['/big', '/big/blob.bin', '/tree', '/tree/a.txt', '/tree/sub', '/tree/sub/b.txt'].map(st),
  sha256: h.digest('hex'),
  text: fs.readFileSync('/tree/sub/b.txt', 'utf8'),
  writes: [w('/big/new'), w('/tree/a.txt'), w('/tree/sub/c.txt')],
}));`;
const executor = await DockerExecutor.create(engineFromEnv(process.env));
const readOnlyMounts = [
  { hostPath: big, containerPath: '/big/blob.bin' },
  { hostPath: tree, containerPath: '/tree' },
];
const limits = { cpus: 1, memoryBytes: 256 * 1024 * 1024, timeoutMs: 60_000 };
const env = { TZ: 'UTC', LANG: 'C', LC_ALL: 'C' };
const res = await executor.run({ id: 'ssh-inputs', imageId, entrypoint: [IMAGE_PATHS.node, '-e', inside], args: [], readOnlyMounts, outputDir: out, env, frozenClock: null, ...limits });
process.stdout.write(JSON.stringify({ exitCode: res.exitCode, stderr: res.stderr, seen: res.exitCode === 0 ? JSON.parse(res.stdout) : null }) + '\n');
