import { MAX_AUTHOR_CHARS, type SilenceActor, type SilenceContext } from '../alerts/silence-input';
import { silenceState } from '../alerts/silence-match';
import type { Logger } from '../log';
import type { SilenceStore } from '../store/store';
import type { NewSilence, SilenceView } from '../alerts/types';
import { FilterError, NotFoundError } from './errors';
import { readPage, type Page } from './paging';

export interface SilenceDeps {
  store: SilenceStore;
  /** The configured destination names a silence may name. */
  destinations: readonly string[];
  /** silences.maxDurationMs. */
  maxDurationMs: number;
  /** After a silence is made or expired: this process applies it at once instead of at its next refresh. */
  onChanged?: (() => Promise<void>) | undefined;
  logger: Logger;
  now: () => number;
}

/** A silence as the fronts show it: the stored record plus what it is now (pending, active, expired). */
export type DescribedSilence = SilenceView & { state: string };

export function describeSilence(view: SilenceView, now: number): DescribedSilence {
  return { ...view, state: silenceState(view, now) };
}

/**
 * Making, listing and ending silences, whoever asks: each front reads its own input (a JSON body, flags, a form)
 * into a silence with the context given here, so all three check it against the same destinations and limits.
 */
export class SilenceOperations {
  constructor(private readonly deps: SilenceDeps) {}

  /** What a silence made now by `actor` is checked against. */
  context(actor: SilenceActor): SilenceContext {
    const { destinations, maxDurationMs } = this.deps;
    return { destinations, now: this.deps.now(), maxDurationMs, actor };
  }

  /** `read` turns the front's input into a silence (throwing SilenceInputError with every problem). */
  async create(actor: SilenceActor, read: (context: SilenceContext) => NewSilence): Promise<DescribedSilence> {
    const view = await this.deps.store.createSilence(read(this.context(actor)));
    await this.deps.onChanged?.();
    this.deps.logger.info(
      { silenceId: view.id, createdBy: view.createdBy, via: view.createdVia, from: view.createdFrom },
      'silence created',
    );
    return describeSilence(view, this.deps.now());
  }

  async list(limit: number, before?: string): Promise<Page<DescribedSilence>> {
    const page = await readPage(limit, (n) => this.deps.store.listSilences({ before, limit: n }));
    const now = this.deps.now();
    return { ...page, items: page.items.map((v) => describeSilence(v, now)) };
  }

  /**
   * Ends a silence now. Who ends it is `expiredBy` when given, else the actor's name: the audit has a name either
   * way. NotFoundError when there is no such silence; SilenceEndedError when it had already ended.
   */
  async expire(id: string, actor: SilenceActor, expiredBy?: string): Promise<DescribedSilence> {
    if (expiredBy !== undefined && expiredBy.trim() === '') {
      throw new FilterError('expiredBy: a non-empty name of who expires the silence (or leave it out)');
    }
    if (expiredBy !== undefined && expiredBy.length > MAX_AUTHOR_CHARS) {
      throw new FilterError(`expiredBy: at most ${MAX_AUTHOR_CHARS} characters`);
    }
    const by = expiredBy ?? actor.name;
    const audit = { via: actor.via, from: actor.from };
    const view = await this.deps.store.expireSilence(id, by, this.deps.now(), audit);
    if (!view) throw new NotFoundError(`no silence with id "${id}"`);
    await this.deps.onChanged?.();
    this.deps.logger.info({ silenceId: view.id, expiredBy: by, via: actor.via, from: actor.from }, 'silence expired');
    return describeSilence(view, this.deps.now());
  }
}
