import net from 'node:net';

/** A client that writes HTTP by hand: headers without the body they promise, bodies that stall. */
export interface RawConnection {
  socket: net.Socket;
  /** Everything the server sent, once it closed the connection (or the test did). */
  closed: Promise<string>;
  /** Resolves with what the server sent so far once it holds `text`. */
  received(text: string, timeoutMs?: number): Promise<string>;
}

export function openRaw(port: number, request?: string | Buffer): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const sample = (): string => JSON.stringify(data.slice(0, 200));
    const watchers = new Set<() => void>();
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      for (const w of [...watchers]) w();
    });
    const closed = new Promise<string>((done) =>
      socket.on('close', () => {
        done(data);
        for (const w of [...watchers]) w();
      }),
    );
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      if (request !== undefined) socket.write(request);
      resolve({
        socket,
        closed,
        received: (text, timeoutMs = 5_000) =>
          new Promise((ok, fail) => {
            const check = (): void => {
              if (data.includes(text)) {
                clearTimeout(timer);
                watchers.delete(check);
                ok(data);
              } else if (socket.destroyed) {
                clearTimeout(timer);
                watchers.delete(check);
                fail(new Error(`connection closed without ${JSON.stringify(text)}; got ${sample()}`));
              }
            };
            const timer = setTimeout(() => {
              watchers.delete(check);
              fail(new Error(`waited ${timeoutMs} ms for ${JSON.stringify(text)}; got ${sample()}`));
            }, timeoutMs);
            watchers.add(check);
            check();
          }),
      });
    });
    socket.once('error', reject);
  });
}

/** The request line and headers of a JSON POST that promises `contentLength` bytes. */
export function postHead(path: string, contentLength: number, contentType = 'application/json'): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Content-Type: ${contentType}\r\nContent-Length: ${contentLength}\r\n\r\n`
  );
}
