import { headersFor, timedRequest, type Credentials, type PageRequest } from './http-timing';

/**
 * The dashboard's readers, in a process of their own (so reading and parsing pages never delays the load
 * generator's clock): `readers` clients each reloading every page in turn, as fast as answers come, until told to
 * stop. Reports how many pages were served, how many failed, and their times.
 */
export interface ReadersStart {
  baseUrl: string;
  credentials: Credentials;
  pages: PageRequest[];
  readers: number;
}

export interface ReadersReport {
  served: number;
  failed: number;
  times: number[];
}

function startReaders(o: ReadersStart): void {
  let stopped = false;
  const report: ReadersReport = { served: 0, failed: 0, times: [] };
  const reader = async (offset: number): Promise<void> => {
    for (let i = offset; !stopped; i++) {
      const page = o.pages[i % o.pages.length] as PageRequest;
      try {
        const answer = await timedRequest(`${o.baseUrl}${page.path}`, { headers: headersFor(page, o.credentials) });
        if (answer.status === 200) {
          report.served += 1;
          report.times.push(answer.ms);
        } else report.failed += 1;
      } catch {
        report.failed += 1;
      }
    }
  };
  const running = Array.from({ length: o.readers }, (_, r) => reader(Math.floor((r * o.pages.length) / o.readers)));
  process.on('message', (m: { cmd: 'stop' }) => {
    if (m.cmd !== 'stop') return;
    stopped = true;
    void Promise.all(running).then(() => {
      process.send?.(report, () => process.exit(0));
    });
  });
  process.send?.({ ready: true });
}

if (require.main === module) {
  process.once('message', (m: ReadersStart) => startReaders(m));
  process.on('disconnect', () => process.exit(0));
}
