import { DEFAULT_SLACK_RATE_PER_SECOND, type DestinationsConfig } from './schema';

/**
 * The least time between two sends to each rate-limited destination: Slack's incoming webhooks take about one
 * message per second each (ratePerSecond, default 1); email and webhooks are not limited this way.
 */
export function resolveMinIntervals(destinations: DestinationsConfig): Map<string, number> {
  const intervals = new Map<string, number>();
  for (const [name, d] of Object.entries(destinations)) {
    if (d.type !== 'slack') continue;
    intervals.set(name, Math.ceil(1000 / (d.ratePerSecond ?? DEFAULT_SLACK_RATE_PER_SECOND)));
  }
  return intervals;
}
