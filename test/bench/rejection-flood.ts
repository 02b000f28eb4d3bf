import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../support/daemon';
import { floodPosts } from '../support/flood';
import { buildCallback } from '../support/skypay';
import { spawnDaemon } from '../support/spawn';
import { withStore } from '../support/store';

/**
 * The full rejection flood against the built daemon, outside npm test (it
 * takes tens of seconds): FLOOD_REQUESTS (10,000) wrong-key callbacks of
 * FLOOD_BODY_KB (100) KB each, from one address or, with FLOOD_ADDRESSES,
 * from that many loopback addresses each in a /24 of its own, then how much
 * the database and WAL grew and how many rows were kept.
 *   npm run build && npm run build:test && node .build-test/test/bench/rejection-flood.js
 */
async function main(): Promise<void> {
  const count = Number(process.env['FLOOD_REQUESTS'] ?? 10_000);
  const bodyKb = Number(process.env['FLOOD_BODY_KB'] ?? 100);
  const addresses = Array.from(
    { length: Number(process.env['FLOOD_ADDRESSES'] ?? 0) },
    (_, i) => `127.${1 + Math.floor(i / 250)}.${i % 250}.1`,
  );
  const dir = makeTempDir('skyrelay-flood');
  const dbPath = path.join(dir, 'skyrelay.db');
  const size = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  const dbBytes = (): number => size(dbPath) + size(`${dbPath}-wal`);
  const daemon = await spawnDaemon({ server: { host: '127.0.0.1', port: 0 }, store: { path: dbPath } });
  try {
    const before = dbBytes();
    const callback = buildCallback({ authentication: 'WRONG-KEY', failDescription: 'x'.repeat(bodyKb * 1024) });
    const body = Buffer.from(JSON.stringify(callback));
    const result = await floodPosts(daemon.callbackUrl, { count, concurrency: 16, body, localAddresses: addresses });
    const during = dbBytes() - before;
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    const after = dbBytes() - before;
    const rows = await withStore(dbPath, (store) => store.listRejections({ limit: 1_000_000 }));
    console.log(
      JSON.stringify({
        requests: count,
        addresses: Math.max(1, addresses.length),
        rowsKept: rows.length,
        counted: rows.reduce((n, r) => n + 1 + r.suppressed, 0),
        bodyBytes: body.length,
        ms: result.ms,
        statuses: [...result.statuses],
        growthBytesRunning: during,
        growthBytesAfterStop: after,
      }),
    );
  } finally {
    if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
