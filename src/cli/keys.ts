import type { Command } from 'commander';
import { generateEd25519Key, generateHmacSecret, readEd25519PrivateKey } from '../destinations/keys';
import type { Config } from '../config/schema';
import { CommandFailed, UsageError, loadCliConfig, print } from './context';

/**
 * `skyrelay keys public NAME` prints the `whpk_` key a receiver of an
 * Ed25519-signing webhook verifies with (alone on its line, for scripts);
 * `skyrelay keys generate hmac|ed25519` makes new signing keys for config.
 */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('signing keys of webhook destinations');
  keys
    .command('public')
    .description("print the public key (whpk_...) that a webhook destination's receivers verify v1a signatures with")
    .argument('<name>', 'a webhook destination with "signing": "ed25519"')
    .action((name: string) => {
      print(findPublicKey(loadCliConfig(), name));
    });
  keys
    .command('generate')
    .description('print a new signing secret (hmac: whsec_...) or key pair (ed25519: whsk_... and its whpk_...)')
    .argument('<type>', 'hmac or ed25519')
    .action((type: string) => {
      if (type === 'hmac') {
        print(`secret: ${generateHmacSecret()}`);
      } else if (type === 'ed25519') {
        const pair = generateEd25519Key();
        print(`privateKey: ${pair.privateKey}`);
        print(`publicKey:  ${pair.publicKey}`);
      } else {
        throw new UsageError(`unknown key type "${type}": expected hmac or ed25519`);
      }
    });
}

export function findPublicKey(config: Config, name: string): string {
  const destination = config.destinations[name];
  if (destination === undefined) {
    const known = Object.keys(config.destinations);
    throw new CommandFailed(`no destination "${name}" (configured: ${known.length ? known.join(', ') : 'none'})`);
  }
  if (destination.type !== 'webhook' || destination.signing !== 'ed25519' || destination.privateKey === undefined) {
    throw new CommandFailed(
      `destination "${name}" does not sign with ed25519, so it has no public key: its receivers verify with its ` +
        'shared secret. To add one: "signing": "ed25519" and a "privateKey" from `skyrelay keys generate ed25519`',
    );
  }
  // The schema has read this key already; this cannot fail on a validated config.
  return readEd25519PrivateKey(destination.privateKey).publicKey;
}
