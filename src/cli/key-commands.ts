import type { Command } from 'commander';
import { AdminError } from '../common/admin-error.ts';
import type { Services } from '../composition-root.ts';
import { CLI_CHANGE } from '../events/change-context.ts';
import { SIGNING_ALGORITHMS } from '../keys/jwt-signer.ts';

export interface KeyCommandDeps {
  withServices<T>(fn: (services: Services) => Promise<T>): Promise<T>;
  print(json: boolean, value: object, text: string): void;
}

/** Checked here rather than by commander, so that a bad value is one line on stderr (no help after it). */
function seconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new AdminError(`--activate-in must be a whole number of seconds, 0 or more, got "${value}"`);
  }
  return Number(value);
}

/** `sei-auth keys …`: the JWT signing keys (contract §6); see docs/keys.md. */
export function registerKeyCommands(program: Command, deps: KeyCommandDeps): void {
  const keys = program
    .command('keys')
    .description('the JWT signing keys: list, rotate, retire (see docs/keys.md)')
    .addHelpText('after', '\nExample:\n  sei-auth keys rotate --json');
  keys
    .command('list')
    .description('list the signing keys: pending (published, not yet signing), active, retiring (still published), retired')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth keys list --json')
    .action((opts: { json?: boolean }) =>
      deps.withServices(async ({ keys }) => {
        const list = await keys.list();
        // Contract §6 names this output exactly: [{"kid","alg","status","created_at"}] (with activates_at).
        deps.print(
          !!opts.json,
          list,
          list.length
            ? list.map((k) => `${k.kid}\t${k.alg}\t${k.status}\tcreated ${k.created_at}\tsigns from ${k.activates_at}`).join('\n')
            : 'no signing keys yet (the server makes the first one when it starts)',
        );
      }),
    );
  keys
    .command('rotate')
    .description('make a new key: published at once, signing --activate-in seconds later; the old one leaves once its tokens expired')
    .option('--alg <alg>', `signing algorithm: ${SIGNING_ALGORITHMS.join(', ')}`, 'ES256')
    .option('--activate-in <seconds>', 'delay before it signs (default: JWKS_MAX_AGE; 0 for an emergency)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  sei-auth keys rotate --json\n  sei-auth keys rotate --alg RS256\n  sei-auth keys rotate --activate-in 0   # emergency',
    )
    .action((opts: { alg: string; activateIn?: string; json?: boolean }) =>
      deps.withServices(async ({ keys }) => {
        // The service refuses an unknown algorithm (an AdminError naming the choices).
        const made = await keys.rotate({ alg: opts.alg, activateInSeconds: seconds(opts.activateIn) }, CLI_CHANGE);
        const from = new Date(made.activatesAt).toISOString();
        deps.print(
          !!opts.json,
          { kid: made.kid, alg: made.alg, activates_at: from },
          `new ${made.alg} key ${made.kid}: published now, signs from ${from}`,
        );
      }),
    );
  keys
    .command('retire')
    .description('take a key out of the JWKS at once (tokens it signed stop verifying); the active key cannot be: rotate first')
    .requiredOption('--kid <kid>', 'the key (see keys list)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth keys retire --kid 3q2-7wAAAAAAAAAAAAAAAA')
    .action((opts: { kid: string; json?: boolean }) =>
      deps.withServices(async ({ keys }) => {
        await keys.retire(opts.kid, CLI_CHANGE);
        deps.print(!!opts.json, { kid: opts.kid, retired: true }, `retired signing key ${opts.kid}`);
      }),
    );
}
