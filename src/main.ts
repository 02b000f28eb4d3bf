#!/usr/bin/env node
import { CONFIG_ERROR_EXIT_CODE, ConfigError, loadConfig } from './config/load';
import { Daemon } from './daemon';
import { createLogger } from './log';

/** The process entry point pm2 runs: load config, start, signal ready, drain on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      exitAfterWrite(`skyrelay: ${err.message}\n`, CONFIG_ERROR_EXIT_CODE);
      return;
    }
    throw err;
  }
  const logger = createLogger({ level: config.log.level });
  const daemon = new Daemon(config, logger);
  await daemon.start();
  // pm2's wait_ready: the app counts as online only once it can take callbacks.
  process.send?.('ready');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    daemon.stop().then(
      () => exitAfterFlush(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exitAfterFlush(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // pm2 on Windows and some setups ask for shutdown over IPC.
  process.on('message', (msg) => {
    if (msg === 'shutdown') shutdown('shutdown message');
  });
}

/**
 * Under pm2 cluster mode stdout is pm2's asynchronous log file stream: exiting
 * at once loses the last lines ("skyrelay stopped"). Exit once they are written.
 */
function exitAfterFlush(code: number): void {
  setTimeout(() => process.exit(code), 1_000);
  process.stdout.write('', () => process.exit(code));
}

/**
 * Under pm2 stderr is a file stream written asynchronously: exiting at once
 * left logs/ empty and the operator with no reason. Exit once it is written.
 */
function exitAfterWrite(message: string, code: number): void {
  setTimeout(() => process.exit(code), 1_000);
  process.stderr.write(message, () => process.exit(code));
}

main().catch((err: unknown) => {
  exitAfterWrite(`skyrelay: failed to start: ${err instanceof Error ? err.message : String(err)}\n`, 1);
});
