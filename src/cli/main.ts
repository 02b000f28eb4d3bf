#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerConfigCheck } from './config-check';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, QuietExit, exitCodeOf, messageOf } from './context';
import { registerDeliveries } from './deliveries';
import { registerDestinations } from './destinations';
import { registerEvents } from './events';
import { escapeControls } from './format';
import { registerKeys } from './keys';
import { registerLedger } from './ledger';
import { registerMigrateStore } from './migrate-store';
import { registerPayouts } from './payouts';
import { registerPrune } from './prune';
import { registerReconcile } from './reconcile';
import { registerRejections } from './rejections';
import { registerRelease } from './release';
import { registerReplay } from './replay';
import { registerShow } from './show';
import { registerSilence } from './silence';
import { registerSimulate } from './simulate';
import { registerTestDestination } from './test-destination';

/**
 * The `skyrelay` command: one file per subcommand, wired here. Exit codes:
 * 0 done, 1 failed, 2 usage (unknown flag, missing argument, bad value); `ledger` exits 3 when a day does not balance.
 */
function buildProgram(): Command {
  const program = new Command('skyrelay')
    .description('operate skyrelay: inspect events and deliveries, replay, test destinations, simulate SkyPay')
    .version(readVersion())
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerConfigCheck(program);
  registerEvents(program);
  registerShow(program);
  registerPayouts(program);
  registerLedger(program);
  registerReconcile(program);
  registerDeliveries(program);
  registerDestinations(program);
  registerRejections(program);
  registerReplay(program);
  registerRelease(program);
  registerTestDestination(program);
  registerSimulate(program);
  registerPrune(program);
  registerMigrateStore(program);
  registerSilence(program);
  registerKeys(program);
  return program;
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof QuietExit) return err.code;
    if (err instanceof CommanderError) {
      // Commander has printed the message or the help already.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const code = exitCodeOf(err);
    // Messages can quote a receiver's answer: escaped like everything printed, line by line (config errors list problems).
    const message = messageOf(err)
      .split('\n')
      .map((l) => escapeControls(l))
      .join('\n');
    process.stderr.write(`skyrelay: ${message}\n`);
    return code === EXIT_USAGE ? EXIT_USAGE : EXIT_FAILED;
  }
}

// process.exit: an open keep-alive socket or mail transport must not keep a finished command waiting.
void main(process.argv).then((code) => process.exit(code));
