import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The consumer: answers every webhook 200 at once and records, per
 * delivery, the control number, the webhook-id and when it arrived (epoch
 * ms with sub-ms precision, comparable with the bench process's clock).
 * Given a share (argv[2], 0 to 1), it answers that share of attempts 503
 * instead, at random: a consumer that fails now and then (bench:ordered).
 */
export interface Receipt {
  controlNumber: string;
  /** The payout status the webhook carried (data.status). */
  status: string;
  webhookId: string;
  at: number;
  /** Answered 200 (not one of the refused share). */
  accepted: boolean;
}

export type SinkRequest = { cmd: 'take' };
export type SinkReply = { receipts: Receipt[] };

const now = (): number => performance.timeOrigin + performance.now();

function startSink(failShare: number): void {
  let receipts: Receipt[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      const accepted = failShare === 0 || Math.random() >= failShare;
      if (accepted) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
      const body = Buffer.concat(chunks).toString('utf8');
      receipts.push({
        controlNumber: /"controlNumber":"([^"]+)"/.exec(body)?.[1] ?? '',
        status: /"status":"([^"]+)"/.exec(body)?.[1] ?? '',
        webhookId: String(req.headers['webhook-id'] ?? ''),
        at,
        accepted,
      });
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

if (require.main === module) startSink(Number(process.argv[2] ?? 0));
