import { expect } from 'chai';
import { AggregatorRegistry } from 'prom-client';
import path from 'node:path';
import { ProcessMetrics } from '../../../src/metrics/collect';
import { diffSamples, flattenFamilies, groupSamples, orderSamples } from '../../../src/metrics/samples';
import type { Sample } from '../../../src/metrics/types';
import { makeTempDir } from '../../support/daemon';
import { openSqliteStore } from '../../support/sqlite';

const asMap = (samples: readonly Sample[]) => new Map(samples.map((s) => [s.series, s.value]));

describe('metric samples (shared totals across processes)', () => {
  it('sends only what grew since the last flush, and a new series even at 0 so every bucket exists', async () => {
    const m = new ProcessMetrics();
    m.recordOutcome('accepted', 3);
    const first = flattenFamilies(await m.readCounters());
    const initial = diffSamples(new Map(), first);
    expect(initial.find((s) => s.series === 'skyrelay_callbacks_total{"outcome":"accepted"}')?.value).to.equal(1);
    // All 13 buckets (12 + Inf), sum and count of the one histogram series.
    expect(initial.filter((s) => s.family === 'skyrelay_callback_duration_seconds')).to.have.length(15);
    m.recordOutcome('accepted', 4);
    m.recordOutcome('refused:unauthenticated', 1);
    const delta = diffSamples(asMap(first), flattenFamilies(await m.readCounters()));
    const byName = Object.fromEntries(delta.map((s) => [s.series, s.value]));
    expect(byName['skyrelay_callbacks_total{"outcome":"accepted"}']).to.equal(1);
    expect(byName['skyrelay_callbacks_total{"outcome":"refused","reason":"unauthenticated"}']).to.equal(1);
    expect(byName['skyrelay_callback_duration_seconds_count{"outcome":"accepted"}']).to.equal(1);
    // Unchanged series are not sent again.
    expect(byName['skyrelay_callback_duration_seconds_bucket{"le":0.001,"outcome":"accepted"}']).to.equal(undefined);
  });

  it("adds two processes' deltas in SQLite and renders one valid histogram, buckets in order", async () => {
    const store = openSqliteStore(path.join(makeTempDir(), 'm.db'));
    try {
      for (const ms of [2, 40]) {
        const m = new ProcessMetrics();
        m.recordOutcome('accepted', ms);
        await store.publishMetrics(diffSamples(new Map(), flattenFamilies(await m.readCounters())), {
          instance: `p${ms}`,
          pid: ms,
          now: 0,
          families: [],
        });
      }
      const text = await AggregatorRegistry.aggregate([
        groupSamples(orderSamples(await store.readMetricTotals())),
      ]).metrics();
      expect(text).to.contain('skyrelay_callbacks_total{outcome="accepted"} 2');
      expect(text).to.contain('skyrelay_callback_duration_seconds_count{outcome="accepted"} 2');
      expect(text).to.contain('skyrelay_callback_duration_seconds_bucket{le="0.0025",outcome="accepted"} 1');
      expect(text).to.contain('skyrelay_callback_duration_seconds_bucket{le="0.05",outcome="accepted"} 2');
      const les = [...text.matchAll(/_bucket\{le="([^"]+)",outcome="accepted"\}/g)].map((m) => m[1]);
      expect(les[0]).to.equal('0.001');
      expect(les[les.length - 1]).to.equal('+Inf');
      expect(les.slice(0, -1).map(Number)).to.deep.equal([...les.slice(0, -1).map(Number)].sort((a, b) => a - b));
    } finally {
      await store.close();
    }
  });

  it('treats a series that shrank as reset: its whole value is new', () => {
    const s: Sample = { series: 'x{}', family: 'x', type: 'counter', help: '', sample: 'x', labels: {}, value: 2 };
    expect(diffSamples(new Map([['x{}', 5]]), [s])[0]?.value).to.equal(2);
    expect(diffSamples(new Map(), [{ ...s, type: 'gauge' }])).to.deep.equal([]);
  });
});
