import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/*
 * Real servers for the controller's tests and benchmark, on 127.0.0.1 and free
 * ports: redis-server (Debian's package; tools/bootstrap.sh --test installs it)
 * and moto's AWS emulator (.venv, from tools/requirements.txt).
 */

export const REPO_ROOT = resolve(__dirname, '../../../..');
export const MOTO_SERVER = join(REPO_ROOT, '.venv', 'bin', 'moto_server');

export interface RunningServer {
  readonly port: number;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

export interface RunningMoto extends RunningServer {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

export interface RedisServerOptions {
  /** @default a free port */
  readonly port?: number;
  /** More redis-server arguments, e.g. ['--requirepass', 'secret'] or cluster settings. */
  readonly args?: readonly string[];
  /** Serve TLS only (as ElastiCache with in-transit encryption), with this certificate. */
  readonly tls?: TestCertificate;
}

/** A self-signed certificate for localhost and 127.0.0.1. */
export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Makes a throwaway self-signed certificate in `dir` (openssl, from the base image). */
export function makeTestCertificate(dir: string): TestCertificate {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const run = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  if (run.status !== 0) throw new Error(`openssl failed: ${run.stderr?.toString() ?? run.error?.message}`);
  return { certFile, keyFile };
}

/** Starts redis-server without persistence and waits until it answers. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RunningServer> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server is not installed: run `bash tools/bootstrap.sh --test`');
  }
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'bc-redis-'));
  const listen = options.tls ? ['--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no'] : ['--port', String(port)];
  const certificate = options.tls ? ['--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile] : [];
  const child = spawn(
    'redis-server',
    [...listen, ...certificate, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.args ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const server = running(child, port, () => rmSync(dir, { recursive: true, force: true }));
  await waitUntil(child, `redis-server on port ${port}`, () => redisAnswers(port, options.tls !== undefined));
  return server;
}

/** Starts moto's server (ECS, CloudWatch, SSM, ...) and waits until it answers. */
export async function startMoto(options: { readonly port?: number } = {}): Promise<RunningMoto> {
  if (!existsSync(MOTO_SERVER)) {
    throw new Error(`${MOTO_SERVER} is missing: run \`bash tools/bootstrap.sh --test\``);
  }
  const port = options.port ?? (await freePort());
  const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const endpoint = `http://127.0.0.1:${port}`;
  const server = running(child, port);
  await waitUntil(child, `moto_server on port ${port}`, async () => {
    try {
      return (await fetch(`${endpoint}/moto-api/`)).ok;
    } catch {
      return false;
    }
  });
  return { ...server, endpoint };
}

function running(child: ChildProcess, port: number, cleanup?: () => void): RunningServer {
  // Keep the pipes drained (a full pipe would block the server) and the tail for errors.
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  (child as ChildProcess & { output: () => string }).output = () => output;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      cleanup?.();
    },
  };
}

async function waitUntil(child: ChildProcess, what: string, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const output = (child as ChildProcess & { output?: () => string }).output?.() ?? '';
      throw new Error(`${what} exited with ${child.exitCode}:\n${output}`);
    }
    if (await ready()) return;
    await new Promise((done) => setTimeout(done, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`${what} did not answer within 15 s`);
}

/** PING over a raw socket; NOAUTH also means the server is up. */
function redisAnswers(port: number, tls: boolean): Promise<boolean> {
  return new Promise((done) => {
    const socket = tls ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

/**
 * A TCP relay in front of a Redis on 127.0.0.1, on a port it holds throughout, that
 * a test cuts and restores: an outage without stopping the server, so the Redis
 * that "comes back" never needs a port that another test's connection may have
 * taken meanwhile.
 */
export interface RedisRelay {
  readonly port: number;
  /**
   * Ends the connections and refuses new ones. `close`: each client is closed now
   * (it sees the close before it sends again). `silent`: the server side goes,
   * but a client learns so only when it next sends: its socket is closed then, with
   * what it sent unanswered (a peer gone without a FIN, as in a failover).
   */
  cut(mode: 'close' | 'silent'): void;
  /** Relays new connections again. */
  restore(): void;
  stop(): Promise<void>;
}

export async function startRedisRelay(redisPort: number): Promise<RedisRelay> {
  let state: 'open' | 'close' | 'silent' = 'open';
  const clients = new Set<Socket>();
  const servers = new Set<Socket>();
  const relay = createServer((client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    if (state !== 'open') {
      client.destroy();
      return;
    }
    const server = connect({ host: '127.0.0.1', port: redisPort });
    servers.add(server);
    server.on('close', () => servers.delete(server));
    // Either side ending ends both, except the client of a silent cut, which learns on its next write.
    const end = () => {
      server.destroy();
      if (state !== 'silent') client.destroy();
    };
    client.on('data', (data) => {
      if (state === 'open') server.write(data);
      else client.destroy();
    });
    server.on('data', (data) => client.write(data));
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
  });
  await new Promise<void>((done) => relay.listen(0, '127.0.0.1', done));
  const destroy = (sockets: Set<Socket>) => [...sockets].forEach((socket) => socket.destroy());
  return {
    port: (relay.address() as { port: number }).port,
    cut(mode) {
      state = mode;
      destroy(servers);
      // A silent cut keeps the clients' sockets until they send.
      if (mode === 'close') destroy(clients);
    },
    restore() {
      state = 'open';
    },
    stop() {
      state = 'close';
      destroy(servers);
      destroy(clients);
      return new Promise((done) => relay.close(() => done()));
    },
  };
}
