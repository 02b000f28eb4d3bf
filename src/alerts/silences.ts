import type { Config } from '../config/schema';
import type { Logger } from '../log';
import type { Plan } from '../routing/plan';
import type { SilenceStore } from '../store/store';
import { applySilences, compileSilence, type CompiledSilence } from './silence-match';

export interface SilencesDeps {
  store: Pick<SilenceStore, 'listCurrentSilences'>;
  /** The rules' plan, which silences then narrow. */
  plan: Plan;
  /** A destination's type (slack, email, webhook) by name; undefined for a name no longer configured. */
  typeOf: (destination: string) => string | undefined;
  refreshIntervalMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * The silences every plan checks, kept in memory: routing runs inside the callback's request, before its
 * transaction, so it must not wait on the store. Each process reads the current silences again every
 * refreshIntervalMs (one small indexed query), so a silence made through another process, host or the CLI holds
 * here within that long; one made through this process's admin API holds at once (refresh()). When a read fails
 * the last list stays in force: a database hiccup must neither lift silences nor stop callbacks.
 */
export class Silences {
  private current: CompiledSilence[] = [];
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly now: () => number;
  /** Silences already reported as ignored: read again every refresh, they are said once. */
  private readonly ignored = new Set<string>();

  constructor(private readonly deps: SilencesDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The plan with silences applied: what ingest and alerts store with each event. */
  readonly plan: Plan = (event) =>
    applySilences(event, this.deps.plan(event), this.current, this.deps.typeOf, this.now());

  /** Loads the silences before the first callback is planned, then keeps them fresh. */
  async start(): Promise<void> {
    await this.load();
    this.schedule();
  }

  /** Reads the silences now; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load()
      .catch((err: unknown) => {
        this.deps.logger.warn({ err }, 'could not read silences; the last ones read stay in force');
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      await this.refreshing;
    })();
    return this.stopping;
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      void this.refresh().then(() => this.schedule());
    }, this.deps.refreshIntervalMs);
    this.timer.unref();
  }

  private async load(): Promise<void> {
    const views = await this.deps.store.listCurrentSilences(this.now());
    const compiled: CompiledSilence[] = [];
    for (const view of views) {
      const silence = compileSilence(view);
      if (silence) compiled.push(silence);
      else if (!this.ignored.has(view.id)) {
        // Made before its matchers were checked as they are now (a field no event has, a lookahead): not trusted.
        this.ignored.add(view.id);
        this.deps.logger.warn(
          { silenceId: view.id },
          'silence has matchers that are no longer valid and is ignored; expire it and make a valid one',
        );
      }
    }
    this.current = compiled;
  }
}

/**
 * Silences as a component: loaded before the first callback is planned, then read again every
 * silences.refreshIntervalMs; `plan` is the routing plan less what an active silence holds back.
 */
export function silencesComponent(deps: { config: Config; store: SilencesDeps['store']; plan: Plan; logger: Logger }) {
  const { config } = deps;
  const silences = new Silences({
    store: deps.store,
    plan: deps.plan,
    typeOf: (name) => config.destinations[name]?.type,
    refreshIntervalMs: config.silences.refreshIntervalMs,
    logger: deps.logger,
  });
  return {
    name: 'silences',
    plan: silences.plan,
    refresh: () => silences.refresh(),
    start: () => silences.start(),
    stop: () => silences.stop(),
  };
}
