import type { Logger } from '../log';

/** A part of the daemon that runs between start() and stop(): the store, the HTTP server, the worker, a job. */
export interface Component {
  /** Names the component in the log line of a stop step that failed. */
  readonly name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/**
 * The daemon's components in start order. stop() stops what was started in reverse order (the server before the
 * worker, the worker before the store), each step on its own: a step that throws is logged and the next one still
 * runs, so one failing component never leaves the database open. A second stop() returns the first one's promise.
 */
export class Components {
  private readonly started: Component[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Starts one component and keeps it for stop(); a component that fails to start is not stopped. */
  async start<C extends Component>(component: C): Promise<C> {
    if (this.stopping) throw new Error(`cannot start ${component.name}: the daemon is stopping`);
    await component.start();
    this.started.push(component);
    return component;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    for (const component of [...this.started].reverse()) {
      try {
        await component.stop();
      } catch (err) {
        this.logger.error({ err, component: component.name }, 'a component failed to stop; stopping the rest');
      }
    }
  }
}

/** Makes stop() idempotent: every call after the first returns the first call's promise. */
export function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}
