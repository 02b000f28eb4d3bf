import type { SystemEvent } from '../event';
import type { Logger } from '../log';
import { Periodic } from '../periodic';
import type { Plan } from '../routing/plan';
import { parseOffsetMinutes } from '../skypay/time';
import type { ClusterJobs, LedgerStore } from '../store/store';
import { dayOf } from './balance';
import { buildLedgerDailyEvent } from './summary';
import type { Ledger } from './types';

export interface LedgerDailyOptions {
  /** ledger.dailyAt: HH:MM in `timezone`. */
  dailyAt: string;
  /** skypay.timezone. */
  timezone: string;
  /** ledger.checkIntervalMs. */
  checkIntervalMs: number;
}

export interface LedgerDailyDeps {
  store: LedgerStore & ClusterJobs;
  /** The ledger use case (src/operations/ledger.ts), as the fronts compute it. */
  compute: (day: string) => Promise<Ledger>;
  /** How the summary is routed: the rules, less what a silence holds back. */
  plan: Plan;
  logger: Logger;
  /** Told after the summary was stored with its deliveries: wakes the delivery worker. */
  onRaised?: (event: SystemEvent) => void;
  /** The clock the due day is told by (tests move it a day on); Date.now otherwise. */
  now?: (() => number) | undefined;
}

/** The cluster-wide lock (the store's runExclusive): one process computes the day's ledger at a time. */
export const LEDGER_DAILY_JOB = 'ledger.daily';

const DAY_MS = 86_400_000;

/**
 * The day whose summary is due at `now`: the summary of day D is due from D+1 at dailyAt until D+2 at dailyAt, when
 * the next one is. A process started late raises the one due then; a day whose time passed while none ran is not
 * raised later (the next day's is due by then). Pure.
 */
export function dueLedgerDay(now: number, dailyAt: string, offsetMinutes: number): string {
  const [hours, minutes] = dailyAt.split(':').map(Number) as [number, number];
  const localMs = now + offsetMinutes * 60_000;
  const sinceMidnight = ((localMs % DAY_MS) + DAY_MS) % DAY_MS;
  const back = sinceMidnight >= (hours * 60 + minutes) * 60_000 ? 1 : 2;
  return dayOf(now - back * DAY_MS, offsetMinutes);
}

/**
 * Raises skyrelay.ledger.daily once a day per cluster: every process looks every checkIntervalMs whether the due
 * day has its summary; the first to get the job lock computes the ledger and stores the day's record with the event
 * in one transaction (a second process finds the record and does nothing), so a restart or a second host never
 * raises a day twice.
 */
export class LedgerDaily {
  private readonly periodic: Periodic;
  private readonly offsetMinutes: number;

  constructor(
    private readonly deps: LedgerDailyDeps,
    private readonly options: LedgerDailyOptions,
  ) {
    this.offsetMinutes = parseOffsetMinutes(options.timezone);
    this.periodic = new Periodic(
      { name: 'daily ledger', intervalMs: options.checkIntervalMs, logger: deps.logger },
      async () => {
        await this.check();
      },
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** Raises the due day's summary if no process has: the event, or undefined when there was nothing to do here. */
  async check(): Promise<SystemEvent | undefined> {
    const { store, logger } = this.deps;
    const now = this.now();
    const day = dueLedgerDay(now, this.options.dailyAt, this.offsetMinutes);
    if (await store.readLedgerDay(day)) return undefined;
    const raised = await store.runExclusive(LEDGER_DAILY_JOB, async () => {
      // Read again under the lock: the process that held it a moment ago may have raised it.
      if (await store.readLedgerDay(day)) return undefined;
      const ledger = await this.deps.compute(day);
      // Stored when it is made: the clock above only tells which day is due.
      const event = buildLedgerDailyEvent(ledger, new Date());
      const record = {
        day,
        timezone: ledger.timezone,
        computedMs: Date.now(),
        balanced: ledger.balanced,
        unexplained: ledger.unexplained.length,
        eventId: event.id,
      };
      return (await store.raiseLedgerDay(record, event, this.deps.plan(event))) ? event : undefined;
    });
    if (raised) {
      logger.info({ day, balanced: raised.data['balanced'], unexplained: raised.data['unexplained'] }, 'daily ledger');
      this.deps.onRaised?.(raised);
    }
    return raised;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}

/** The daily summary as one of the daemon's components, when ledger.dailyAt is set; undefined otherwise. */
export function createLedgerDaily(
  deps: LedgerDailyDeps,
  config: { dailyAt?: string | undefined; checkIntervalMs: number; timezone: string },
): (LedgerDaily & { name: string }) | undefined {
  if (config.dailyAt === undefined) return undefined;
  const daily = new LedgerDaily(deps, { ...config, dailyAt: config.dailyAt });
  return Object.assign(daily, { name: 'daily ledger' });
}

/** What the daemon hands the daily summary: its shared ports, and the ledger use case the fronts compute too. */
export interface LedgerDailyFeature {
  config: { ledger: { dailyAt?: string | undefined; checkIntervalMs: number }; skypay: { timezone: string } };
  store: LedgerStore & ClusterJobs;
  plan: Plan;
  logger: Logger;
  wake: () => void;
  /** The ledger use case the fronts compute too (src/operations/ledger.ts). */
  operations: { ledger: { compute(query: { day: string }): Promise<Ledger> } };
  now?: (() => number) | undefined;
}

/** The daily summary component built from the daemon's features; undefined while ledger.dailyAt is unset. */
export function ledgerDailyComponent(f: LedgerDailyFeature): (LedgerDaily & { name: string }) | undefined {
  return createLedgerDaily(
    {
      store: f.store,
      compute: (day) => f.operations.ledger.compute({ day }),
      plan: f.plan,
      logger: f.logger,
      onRaised: () => f.wake(),
      now: f.now,
    },
    { ...f.config.ledger, timezone: f.config.skypay.timezone },
  );
}
