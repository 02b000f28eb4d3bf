/**
 * prom-client's JSON form of a registry, flattened into one row per series
 * so deltas can be added to shared totals and the totals turned back into
 * the JSON that AggregatorRegistry.aggregate renders. Pure functions only.
 */
import type { LabelSet, MetricFamily, Sample } from './types';

function sortLabels(labels: LabelSet): LabelSet {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function flattenFamilies(families: readonly MetricFamily[]): Sample[] {
  const out: Sample[] = [];
  for (const f of families) {
    for (const v of f.values) {
      const sample = v.metricName ?? f.name;
      const labels = sortLabels(v.labels);
      out.push({
        series: `${sample}${JSON.stringify(labels)}`,
        family: f.name,
        type: f.type,
        help: f.help,
        sample,
        labels,
        value: v.value,
      });
    }
  }
  return out;
}

/**
 * What grew since `previous` (both cumulative, from one process). Only
 * counters and histograms are shared as totals; a series that shrank means
 * the registry was reset, and then its whole value is new.
 */
export function diffSamples(previous: ReadonlyMap<string, number>, current: readonly Sample[]): Sample[] {
  const out: Sample[] = [];
  for (const s of current) {
    if (s.type !== 'counter' && s.type !== 'histogram') continue;
    const before = previous.get(s.series);
    const delta = before === undefined || s.value < before ? s.value : s.value - before;
    // A new series goes out even at 0, so every histogram bucket exists from the start.
    if (delta !== 0 || before === undefined) out.push({ ...s, value: delta });
  }
  return out;
}

/** Rebuilds families from samples, in first-seen order, summing aggregation where names repeat. */
export function groupSamples(samples: readonly Sample[], extraLabels: LabelSet = {}): MetricFamily[] {
  const families = new Map<string, MetricFamily>();
  for (const s of samples) {
    let f = families.get(s.family);
    if (!f) {
      f = { name: s.family, help: s.help, type: s.type, aggregator: 'sum', values: [] };
      families.set(s.family, f);
    }
    const labels = { ...s.labels, ...extraLabels };
    f.values.push(
      s.sample === s.family ? { value: s.value, labels } : { value: s.value, labels, metricName: s.sample },
    );
  }
  return [...families.values()];
}

const KIND_ORDER = ['_bucket', '_sum', '_count'];

/** Exposition order: by family, then label set, and within a histogram buckets by `le`, then _sum, _count. */
export function orderSamples(samples: readonly Sample[]): Sample[] {
  const keyOf = (s: Sample) => {
    const { le, ...rest } = s.labels;
    const suffix = s.sample.slice(s.family.length);
    const bound = le === undefined ? 0 : le === '+Inf' ? Infinity : Number(le);
    return { rest: JSON.stringify(rest), kind: Math.max(0, KIND_ORDER.indexOf(suffix)), bound };
  };
  return [...samples].sort((a, b) => {
    if (a.family !== b.family) return a.family < b.family ? -1 : 1;
    const ka = keyOf(a);
    const kb = keyOf(b);
    if (ka.rest !== kb.rest) return ka.rest < kb.rest ? -1 : 1;
    return ka.kind - kb.kind || ka.bound - kb.bound;
  });
}
