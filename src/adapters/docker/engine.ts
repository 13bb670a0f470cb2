// The Docker engine edge: connect from the environment (DOCKER_HOST or the local socket), turn
// transport failures into one actionable StellaError, load images, read what the engine reports about
// itself. Nothing else in Stella talks to dockerode directly.
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { isStellaError, StellaError } from '../../core/errors.js';
import type { Digest } from '../../core/formats.js';
import { parseJsonText } from '../../core/json/parse.js';
import { SSH_FAILED, sshAgent } from './ssh-agent.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export const START_ENGINE_HINT =
  'start the engine (`dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false &`) or point DOCKER_HOST at a running one; `--executor local` replays without Docker (lower assurance)';

export interface Engine {
  docker: Docker;
  /** How the engine was addressed, for messages: `unix:///var/run/docker.sock` or the DOCKER_HOST value. */
  host: string;
  /** True when DOCKER_HOST chose the engine (messages then name the variable). */
  fromEnv: boolean;
  /**
   * False for an engine reached over the network (ssh://, tcp://): it does not see our filesystem, so
   * inputs are copied into volumes instead of bind-mounted (confined-input.ts).
   */
  sharesFilesystem: boolean;
  /** ssh:// engines: reached through the system ssh client (messages say how to check it). */
  viaSsh?: boolean;
}

/** Connect options from an explicit environment, so tests and the CLI never depend on process.env. */
export function engineFromEnv(env: NodeJS.ProcessEnv): Engine {
  const raw = env.DOCKER_HOST?.trim();
  if (!raw) return { docker: new Docker({ socketPath: DEFAULT_SOCKET }), host: `unix://${DEFAULT_SOCKET}`, fromEnv: false, sharesFilesystem: true };
  if (raw.startsWith('unix://')) {
    return { docker: new Docker({ socketPath: raw.slice('unix://'.length) || DEFAULT_SOCKET }), host: raw, fromEnv: true, sharesFilesystem: true };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StellaError('ENGINE_UNREACHABLE', `DOCKER_HOST=${raw} is not a URL; use unix:///path/docker.sock, tcp://host:2376 or ssh://user@host`);
  }
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const tls = url.protocol === 'https:' || (env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' && env.DOCKER_TLS_VERIFY !== '0');
    const opts: Docker.DockerOptions = { host: url.hostname, port: url.port || (tls ? '2376' : '2375'), protocol: tls ? 'https' : 'http' };
    if (tls) {
      const certDir = env.DOCKER_CERT_PATH || path.join(env.HOME ?? '', '.docker');
      try {
        opts.ca = readFileSync(path.join(certDir, 'ca.pem'));
        opts.cert = readFileSync(path.join(certDir, 'cert.pem'));
        opts.key = readFileSync(path.join(certDir, 'key.pem'));
      } catch (e) {
        throw new StellaError('ENGINE_UNREACHABLE', `DOCKER_HOST=${raw} asks for TLS but the client certificates in ${certDir} cannot be read (${(e as Error).message}); set DOCKER_CERT_PATH`);
      }
    }
    return { docker: new Docker(opts), host: raw, fromEnv: true, sharesFilesystem: false };
  }
  if (url.protocol === 'ssh:') {
    if (!url.hostname || (url.pathname !== '' && url.pathname !== '/')) {
      throw new StellaError('ENGINE_UNREACHABLE', `DOCKER_HOST=${raw}: expected ssh://[user@]host[:port] with no path`);
    }
    // The system ssh client, as `docker -H ssh://` does (ssh-agent.ts says why not docker-modem's ssh2
    // path). No port unless given, so ~/.ssh/config's Port and User for the alias apply. protocol http
    // and a placeholder host only shape the request line: every byte goes through the agent's ssh child.
    const agent = sshAgent({ host: url.hostname, ...(url.username ? { user: decodeURIComponent(url.username) } : {}), ...(url.port ? { port: url.port } : {}) }, env);
    return {
      docker: new Docker({ protocol: 'http', host: 'docker.invalid', port: 80, pathPrefix: '/', agent } as Docker.DockerOptions),
      host: raw,
      fromEnv: true,
      sharesFilesystem: false,
      viaSsh: true,
    };
  }
  throw new StellaError('ENGINE_UNREACHABLE', `DOCKER_HOST=${raw}: unsupported scheme ${url.protocol}; use unix://, tcp:// or ssh://`);
}

const TRANSPORT_CODES = new Set([SSH_FAILED, 'ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'ENETUNREACH']);

/** True for "could not talk to the engine at all", as opposed to an API error from a running engine. */
export function isTransportError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && TRANSPORT_CODES.has(code);
}

export function unreachable(engine: Engine, e: unknown): StellaError {
  const where = engine.fromEnv ? `DOCKER_HOST=${engine.host}` : `${engine.host} (DOCKER_HOST is not set)`;
  const why = (e as Error)?.message ?? String(e);
  const perm = (e as { code?: string })?.code === 'EACCES' ? '; your user may not be allowed on the socket (docker group)' : '';
  const hint = engine.viaSsh
    ? `check that \`ssh -o BatchMode=yes ${sshHostOf(engine.host)} docker system dial-stdio\` connects without a prompt (key or agent, a known host key) and that docker runs there`
    : START_ENGINE_HINT;
  return new StellaError('ENGINE_UNREACHABLE', `Docker engine unreachable at ${where}: ${why}${perm}; ${hint}`, {}, { cause: e });
}

function sshHostOf(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.port ? `-p ${u.port} ` : ''}${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.hostname}`;
  } catch {
    return raw;
  }
}

/** Run an engine call, turning transport failures into ENGINE_UNREACHABLE. */
export async function call<T>(engine: Engine, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isTransportError(e)) throw unreachable(engine, e);
    throw e;
  }
}

/** The one line for an endpoint that speaks HTTP but is not the Docker Engine API. */
export function notAnEngine(engine: Engine, detail: string): StellaError {
  const where = engine.fromEnv ? `DOCKER_HOST=${engine.host}` : `DOCKER_HOST=${engine.host} (the default socket)`;
  return new StellaError('ENGINE_UNREACHABLE', `${where} answers, but is not a Docker engine (${detail}); point DOCKER_HOST at a Docker Engine API`);
}

/**
 * Reach the engine and check it is one: the Engine API answers `GET /_ping` with 200 and the body `OK`.
 * Anything else that answers HTTP (a web server, a proxy's error page) gets one line, never its body.
 */
export async function ping(engine: Engine): Promise<void> {
  let body: unknown;
  try {
    body = await call(engine, () => engine.docker.ping());
  } catch (e) {
    const status = (e as { statusCode?: unknown })?.statusCode;
    if (typeof status === 'number') throw notAnEngine(engine, `GET /_ping gave HTTP ${status}`);
    if (isStellaError(e)) throw e;
    // A reply that is not HTTP at all, or a parse failure of one.
    throw notAnEngine(engine, `GET /_ping failed: ${String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 80)}`);
  }
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : JSON.stringify(body);
  if (text.trim() !== 'OK') throw notAnEngine(engine, 'GET /_ping did not answer OK');
}

export async function hasImage(engine: Engine, imageId: string): Promise<boolean> {
  try {
    await call(engine, () => engine.docker.getImage(imageId).inspect());
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

/** `docker load` of an archive given as chunks; resolves when the engine has taken it. */
export async function loadArchive(engine: Engine, chunks: readonly Uint8Array[], expectId: Digest): Promise<void> {
  const stream = await call(engine, () => engine.docker.loadImage(Readable.from(chunks), { quiet: true }));
  const text = await new Promise<string>((resolve, reject) => {
    const parts: Buffer[] = [];
    (stream as NodeJS.ReadableStream).on('data', (b: Buffer) => parts.push(Buffer.from(b)));
    (stream as NodeJS.ReadableStream).on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    (stream as NodeJS.ReadableStream).on('error', reject);
  });
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let msg: { error?: string; errorDetail?: { message?: string } };
    try {
      msg = parseJsonText(line, 'docker load output') as typeof msg;
    } catch {
      continue;
    }
    if (msg.error || msg.errorDetail) {
      throw new StellaError('IMAGE_MISSING', `docker load of ${expectId} failed: ${msg.errorDetail?.message ?? msg.error}`);
    }
  }
  if (!(await hasImage(engine, expectId))) {
    throw new StellaError('IMAGE_MISSING', `docker load finished but the engine does not have ${expectId}: the archive is not the image it claims to be`);
  }
}

/** What the engine says about itself, for replay.json `executor`. */
export interface EngineFacts {
  engineVersion: string;
  kernel: string;
  cpus: number;
  arch: string;
  os: string;
}

export async function engineFacts(engine: Engine): Promise<EngineFacts> {
  const info = (await call(engine, () => engine.docker.info())) as {
    ServerVersion?: string;
    KernelVersion?: string;
    NCPU?: number;
    Architecture?: string;
    OSType?: string;
  };
  return {
    engineVersion: info.ServerVersion ?? 'unknown',
    kernel: info.KernelVersion ?? 'unknown',
    cpus: info.NCPU ?? 1,
    arch: normalizeArch(info.Architecture ?? 'unknown'),
    os: info.OSType ?? 'linux',
  };
}

export function normalizeArch(a: string): string {
  switch (a) {
    case 'x86_64':
    case 'x64':
      return 'amd64';
    case 'aarch64':
      return 'arm64';
    default:
      return a;
  }
}
