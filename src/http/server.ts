import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type Koa from 'koa';

export interface RunningServer {
  address: AddressInfo;
  /** Stops accepting, lets requests in flight finish (up to graceMs), then closes what is left. */
  close(graceMs: number): Promise<void>;
}

export async function listen(
  app: Koa,
  host: string,
  port: number,
  options: { maxConnections?: number } = {},
): Promise<RunningServer> {
  const server = http.createServer(app.callback());
  // Beyond this, new connections are closed at once: each open one costs buffers and a parser.
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
  // A slow or stuck client must not hold a connection (and the shutdown) forever.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  const drain = trackResponses(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: (graceMs) => {
      drain();
      return closeGracefully(server, graceMs);
    },
  };
}

/**
 * A keep-alive connection idle at shutdown may be carrying the client's next
 * callback right now: closing it then fails that request (seen under pm2
 * reload, even 100 ms into the drain). So once draining, every answer says
 * `Connection: close`, and idle connections are left to expire by
 * keepAliveTimeout, which clients were told (`Keep-Alive: timeout=5`) and
 * retire their sockets before. Only graceMs closes whatever is left.
 *
 * Returns the switch that makes answers in flight and to come close their connection.
 */
function trackResponses(server: http.Server): () => void {
  let draining = false;
  const open = new Set<http.ServerResponse>();
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (draining) res.shouldKeepAlive = false;
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  return () => {
    draining = true;
    for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
  };
}

function closeGracefully(server: http.Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const hard = setTimeout(() => server.closeAllConnections(), graceMs);
    hard.unref();
    // net.Server's close stops listening (in a pm2 cluster worker: no new connections are routed here)
    // without http.Server's immediate drop of idle keep-alive connections.
    net.Server.prototype.close.call(server, () => {
      clearTimeout(hard);
      resolve();
    });
  });
}

/** The HTTP server as a component: listening last, closed first (no new requests; those in flight finish). */
export function httpServerComponent(
  app: Koa,
  server: { host: string; port: number; maxConnections: number; shutdownTimeoutMs: number },
  onListening: (running: RunningServer) => void,
) {
  let running: RunningServer | undefined;
  return {
    name: 'http server',
    start: async () => {
      running = await listen(app, server.host, server.port, { maxConnections: server.maxConnections });
      onListening(running);
    },
    stop: () => running?.close(server.shutdownTimeoutMs),
  };
}
