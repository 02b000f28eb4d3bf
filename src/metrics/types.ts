/** prom-client's JSON form of a metric family, and one flattened series of it: what metric totals persist. */
/** prom-client's JSON form of a metric family, and one flattened series of it: what metric totals persist. */
export type LabelSet = Record<string, string | number>;

export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  values: { value: number; labels: LabelSet; metricName?: string }[];
}

export interface Sample {
  /** Stable key: sample name plus sorted labels. */
  series: string;
  family: string;
  type: string;
  help: string;
  /** The exposed name: the family's, or e.g. `<family>_bucket` for a histogram. */
  sample: string;
  labels: LabelSet;
  value: number;
}

/** One process's own metrics row, as every process's scrape shows it. */
export interface MetricProcess {
  instance: string;
  pid: number;
  families: MetricFamily[];
}
