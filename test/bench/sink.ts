import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The consumer: answers every webhook 200 at once and records, per
 * delivery, the control number, the webhook-id and when it arrived (epoch
 * ms with sub-ms precision, comparable with the bench process's clock).
 */
export interface Receipt {
  controlNumber: string;
  webhookId: string;
  at: number;
}

export type SinkRequest = { cmd: 'take' };
export type SinkReply = { receipts: Receipt[] };

const now = (): number => performance.timeOrigin + performance.now();

function startSink(): void {
  let receipts: Receipt[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      const match = /"controlNumber":"([^"]+)"/.exec(Buffer.concat(chunks).toString('utf8'));
      receipts.push({ controlNumber: match?.[1] ?? '', webhookId: String(req.headers['webhook-id'] ?? ''), at });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('message', (m: SinkRequest) => {
    if (m.cmd === 'take') {
      process.send?.({ receipts } satisfies SinkReply);
      receipts = [];
    }
  });
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) startSink();
