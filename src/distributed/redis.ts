/** Redis for the queue: `redis://HOST:PORT/DB` parsed, and a quick reachability check with a one-line error. */
import { connect } from 'node:net';
import { DistributedError } from './errors.js';

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** `rediss://`: TLS. */
  tls?: object;
}

/** `redis://[user:password@]HOST[:PORT][/DB]` (or `rediss://` for TLS): port 6379 and db 0 by default. */
export function parseQueueUrl(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DistributedError('InvalidQueueUrl', `${url}: not a URL; expected redis://HOST:PORT/DB`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new DistributedError(
      'InvalidQueueUrl',
      `${url}: expected redis://HOST:PORT/DB (or rediss:// for TLS), not ${parsed.protocol}//`,
    );
  }
  const path = parsed.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0) {
    throw new DistributedError(
      'InvalidQueueUrl',
      `${url}: the database must be a number (redis://HOST:PORT/0)`,
    );
  }
  return {
    host: parsed.hostname || 'localhost',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Fails fast with one line when nothing answers at `target` (a Redis client would retry forever). Only the
 * TCP connection is checked here; authentication errors come from the client with their own message.
 */
export function checkReachable(url: string, target: RedisTarget, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new DistributedError('QueueUnreachable', `${url}: cannot reach Redis (${reason})`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs / 1000}s`));
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
  });
}
