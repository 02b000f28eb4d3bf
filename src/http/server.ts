import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

export interface RunningServer {
  address: AddressInfo;
  /** Stops accepting, lets requests in flight finish (up to graceMs), then closes what is left. */
  close(graceMs: number): Promise<void>;
}

export async function listen(app: Koa, host: string, port: number): Promise<RunningServer> {
  const server = http.createServer(app.callback());
  // A slow or stuck client must not hold a connection (and the shutdown) forever.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: (graceMs) => closeGracefully(server, graceMs),
  };
}

function closeGracefully(server: http.Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const hard = setTimeout(() => server.closeAllConnections(), graceMs);
    hard.unref();
    server.close(() => {
      clearInterval(idle);
      clearTimeout(hard);
      resolve();
    });
    server.closeIdleConnections();
  });
}
