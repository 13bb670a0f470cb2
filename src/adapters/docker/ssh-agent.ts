// DOCKER_HOST=ssh://[user@]host[:port] the way the docker CLI does it: the system `ssh` client runs
// `docker system dial-stdio` on the far side, and the Engine API is spoken over the child's stdin/stdout.
//
// Why not docker-modem's own ssh path (ssh2, a JavaScript SSH client): it reads no ~/.ssh/config (no Host
// aliases, ProxyJump, IdentityFile, User, Port), checks no host key (known_hosts is ignored: anyone on
// the path could play the engine), authenticates only with what is passed in code (no agent or key by
// default here), and opens a new SSH connection for every API request. The system client brings the
// user's config, known_hosts verification, agent and identity files as `ssh HOST` does, and a
// keep-alive http.Agent keeps one ssh child per pooled connection instead of one per request.
//
// Each socket is one ssh child. It is killed when its socket is destroyed or closed, idle pooled ones
// after IDLE_MS, and every one still running when this process exits; none outlives the client.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import http from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** An idle pooled connection (and its ssh child) is closed after this long. */
const IDLE_MS = 30_000;
const STDERR_KEEP = 4096;

/** The error code a failed ssh child reports with; engine.ts counts it as a transport failure. */
export const SSH_FAILED = 'ESSHDIAL';

export interface SshTarget {
  host: string;
  user?: string;
  port?: string;
}

/** The argv of one connection: `ssh -o BatchMode=yes [-l user] [-p port] -- host docker system dial-stdio`. */
export function sshArgs(t: SshTarget): string[] {
  return [
    '-o', 'BatchMode=yes',
    // No pty, no stdin games: the channel carries HTTP bytes only.
    '-T',
    ...(t.user ? ['-l', t.user] : []),
    ...(t.port ? ['-p', t.port] : []),
    '--', t.host,
    'docker', 'system', 'dial-stdio',
  ];
}

const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function trackChild(child: ChildProcessWithoutNullStreams): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // process.exit() and a natural end both pass here: no ssh child stays behind as an orphan.
    process.once('exit', () => {
      for (const c of live) c.kill('SIGTERM');
    });
  }
}

/**
 * A socket for node's http client over one `ssh … docker system dial-stdio` child. The readable side
 * ends only once the child has exited: with exit 0 it is a clean end, otherwise the socket fails with
 * ssh's own last stderr line (unknown host, refused key, host key mismatch, no docker there).
 */
class SshSocket extends Duplex {
  timeout = 0;
  private timer: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  private stderr = '';
  private stdoutEnded = false;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    super({ allowHalfOpen: false });
    child.stdout.on('data', (b: Buffer) => {
      this.touch();
      if (!this.push(b)) child.stdout.pause();
    });
    child.stdout.on('end', () => {
      this.stdoutEnded = true;
      this.settle();
    });
    child.stderr.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString('utf8')).slice(-STDERR_KEEP);
    });
    // EPIPE after the child died: its exit status says why.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => this.destroy(Object.assign(new Error(`cannot run ssh: ${e.message}`), { code: SSH_FAILED })));
    child.on('close', (code, signal) => {
      this.exited = { code, signal };
      this.settle();
    });
  }

  private settle(): void {
    if (!this.stdoutEnded || !this.exited || this.destroyed) return;
    const { code, signal } = this.exited;
    if (code === 0) {
      this.push(null);
      return;
    }
    const line = this.stderr
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .pop();
    const why = line ?? `ssh exited with ${code ?? signal}`;
    this.destroy(Object.assign(new Error(why), { code: SSH_FAILED }));
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.touch();
    if (this.child.stdin.write(chunk)) cb();
    else this.child.stdin.once('drain', () => cb());
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.child.stdin.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    clearTimeout(this.timer);
    clearTimeout(this.idle);
    if (this.exited === null) this.child.kill('SIGTERM');
    this.child.stdin.destroy();
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    cb(err);
  }

  // What node's http client and keep-alive Agent ask of a socket besides the stream itself.

  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setTimeout(ms: number, cb?: () => void): this {
    this.timeout = ms;
    if (cb) this.once('timeout', cb);
    this.touch();
    return this;
  }

  private touch(): void {
    clearTimeout(this.timer);
    if (this.timeout > 0) this.timer = setTimeout(() => this.emit('timeout'), this.timeout).unref();
  }

  /** The child's stdio pipes are sockets (spawn with 'pipe'); their handles keep the loop alive. */
  private pipes(): Socket[] {
    return [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as Socket[];
  }

  /** A pooled socket waiting for its next request: the process may exit meanwhile, and it closes when idle. */
  unref(): this {
    this.child.unref();
    for (const s of this.pipes()) s.unref();
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.destroy(), IDLE_MS).unref();
    return this;
  }

  ref(): this {
    this.child.ref();
    for (const s of this.pipes()) s.ref();
    clearTimeout(this.idle);
    return this;
  }
}

/** A keep-alive http.Agent whose connections are ssh children; env is theirs (PATH, SSH_AUTH_SOCK). */
export function sshAgent(t: SshTarget, env: NodeJS.ProcessEnv): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 4 });
  const args = sshArgs(t);
  (agent as unknown as { createConnection: () => Duplex }).createConnection = () => {
    const child = spawn('ssh', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    trackChild(child);
    return new SshSocket(child);
  };
  return agent;
}
