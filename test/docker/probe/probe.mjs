// Sandbox probe: run with the replay HostConfig instead of the scanner; prints one JSON line with what
// the process can see and do. Every network attempt must fail (there is no network to reach).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import dns from 'node:dns';
import net from 'node:net';
import os from 'node:os';

const result = {};
const attempt = (fn) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return `fail:${e.code ?? e.message}`;
  }
};
result.interfaces = readdirSync('/sys/class/net').sort();
// getifaddrs asks the process's own network namespace (sysfs may show the host's when not remounted).
result.netnsInterfaces = Object.keys(os.networkInterfaces()).sort();
result.uid = process.getuid();
result.gid = process.getgid();
const status = readFileSync('/proc/self/status', 'utf8');
result.capEff = /CapEff:\s*(\S+)/.exec(status)?.[1] ?? null;
result.noNewPrivs = /NoNewPrivs:\s*(\S+)/.exec(status)?.[1] ?? null;
result.now = Date.now();
result.tz = process.env.TZ ?? null;
result.lcAll = process.env.LC_ALL ?? null;
result.writeRoot = attempt(() => writeFileSync('/x', 'x'));
result.writeTmp = attempt(() => writeFileSync('/tmp/x', 'x'));
result.writeOut = attempt(() => writeFileSync(`${process.argv[2] ?? '/out'}/probe.txt`, 'written'));
result.writeProbeMount = attempt(() => writeFileSync(new URL('./y', import.meta.url), 'y'));
result.dns = await new Promise((resolve) => {
  const t = setTimeout(() => resolve('fail:timeout'), 3000);
  dns.lookup('example.com', (e, addr) => {
    clearTimeout(t);
    resolve(e ? `fail:${e.code}` : `ok:${addr}`);
  });
});
result.tcp = await new Promise((resolve) => {
  const s = net.connect({ host: '1.1.1.1', port: 53 });
  const t = setTimeout(() => {
    s.destroy();
    resolve('fail:timeout');
  }, 2000);
  s.on('connect', () => {
    clearTimeout(t);
    s.destroy();
    resolve('ok');
  });
  s.on('error', (e) => {
    clearTimeout(t);
    resolve(`fail:${e.code}`);
  });
});
// Timers still run under the frozen clock (the monotonic clock is real).
result.timer = await new Promise((resolve) => setTimeout(() => resolve('fired'), 50));
result.nowAfterTimer = Date.now();
process.stdout.write(JSON.stringify(result) + '\n');
