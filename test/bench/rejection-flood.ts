import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../support/daemon';
import { floodPosts } from '../support/flood';
import { buildCallback } from '../support/skypay';
import { spawnDaemon } from '../support/spawn';

/**
 * The full rejection flood of issue 8 against the built daemon, outside npm test
 * (it takes tens of seconds): FLOOD_REQUESTS (10,000) wrong-key callbacks of
 * FLOOD_BODY_KB (100) KB each, then how much the database and WAL grew.
 *   npm run build && npm run build:test && node .build-test/test/bench/rejection-flood.js
 */
async function main(): Promise<void> {
  const count = Number(process.env['FLOOD_REQUESTS'] ?? 10_000);
  const bodyKb = Number(process.env['FLOOD_BODY_KB'] ?? 100);
  const dir = makeTempDir('skyrelay-flood');
  const dbPath = path.join(dir, 'skyrelay.db');
  const size = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  const dbBytes = (): number => size(dbPath) + size(`${dbPath}-wal`);
  const daemon = await spawnDaemon({ server: { host: '127.0.0.1', port: 0 }, store: { path: dbPath } });
  try {
    const before = dbBytes();
    const callback = buildCallback({ authentication: 'WRONG-KEY', failDescription: 'x'.repeat(bodyKb * 1024) });
    const body = Buffer.from(JSON.stringify(callback));
    const result = await floodPosts(daemon.callbackUrl, { count, concurrency: 16, body });
    const during = dbBytes() - before;
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    const after = dbBytes() - before;
    console.log(
      JSON.stringify({
        requests: count,
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
