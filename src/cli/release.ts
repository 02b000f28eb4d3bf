import type { Command } from 'commander';
import { loadCliConfig, print, withOperations } from './context';

export function registerRelease(program: Command): void {
  program
    .command('release')
    .description(
      'let a payout held at an ordered destination go on: its later events are sent without this dead delivery, ' +
        'which stays dead (replay it instead to send it again in its place)',
    )
    .argument('<deliveryId>', 'the dead delivery that holds the payout (skyrelay deliveries --held)')
    .action(async (id: string) => {
      const config = loadCliConfig();
      const { waiting } = await withOperations(config, ({ holds }) => holds.release(id));
      print(`released ${id}`);
      print(
        waiting === 0
          ? 'no later event of the payout was waiting'
          : `${waiting} later event${waiting === 1 ? '' : 's'} of the payout go on; the daemon sends within ` +
              `delivery.pollIntervalMs (${config.delivery.pollIntervalMs} ms)`,
      );
    });
}
