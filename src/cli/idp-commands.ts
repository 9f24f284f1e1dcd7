import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AdminError } from '../common/admin-error.ts';
import type { Services } from '../composition-root.ts';

export interface IdpCommandDeps {
  withServices<T>(fn: (services: Services) => Promise<T>): Promise<T>;
  print(json: boolean, value: object, text: string): void;
}

function readPem(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new AdminError(`cannot read the certificate file ${path}`);
  }
}

/** `sei-auth idp …`: the SAML identity providers whose signed assertions the token endpoint accepts. */
export function registerIdpCommands(program: Command, deps: IdpCommandDeps): void {
  const idp = program
    .command('idp')
    .description('SAML identity providers (customers\u2019 IdPs) and their signing certificates')
    .addHelpText('after', '\nExample:\n  sei-auth idp create --entity-id https://idp.acme.example/saml --cert acme-signing.pem --json');
  idp
    .command('create')
    .description('register an IdP of an organization with its signing certificate')
    .option('--org <id>', 'organization whose users this IdP vouches for (default: the default organization)')
    .requiredOption('--entity-id <id>', "the IdP's entity id (the Issuer of its assertions)")
    .requiredOption('--cert <file.pem>', "the IdP's signing certificate, PEM")
    .option('--jit', 'create unknown users of the organization on their first SSO login')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExample:\n  sei-auth idp create --org org_123 --entity-id https://idp.acme.example/saml --cert acme-signing.pem --jit --json',
    )
    .action((opts: { org?: string; entityId: string; cert: string; jit?: boolean; json?: boolean }) =>
      deps.withServices(async ({ idps }) => {
        const created = await idps.create({ orgId: opts.org, entityId: opts.entityId, certPem: readPem(opts.cert), jit: !!opts.jit });
        deps.print(!!opts.json, created, `registered identity provider ${created.id}`);
      }),
    );

  idp
    .command('add-cert')
    .description("add a second certificate (the IdP's next signing key) for rotation")
    .requiredOption('--idp <id>', 'IdP id or entity id')
    .requiredOption('--cert <file.pem>', 'the new certificate, PEM')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth idp add-cert --idp https://idp.acme.example/saml --cert acme-signing-2027.pem --json')
    .action((opts: { idp: string; cert: string; json?: boolean }) =>
      deps.withServices(async ({ idps }) => {
        const added = await idps.addCertificate(opts.idp, readPem(opts.cert));
        deps.print(!!opts.json, added, `added certificate ${added.id} (${added.fingerprint})`);
      }),
    );

  idp
    .command('remove-cert')
    .description('remove a certificate (by id or SHA-256 fingerprint) once the IdP no longer signs with it')
    .requiredOption('--idp <id>', 'IdP id or entity id')
    .requiredOption('--cert <id-or-fingerprint>', 'certificate id (see idp list) or fingerprint')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth idp remove-cert --idp https://idp.acme.example/saml --cert crt_123')
    .action((opts: { idp: string; cert: string; json?: boolean }) =>
      deps.withServices(async ({ idps }) => {
        await idps.removeCertificate(opts.idp, opts.cert);
        deps.print(!!opts.json, { removed: opts.cert }, `removed certificate ${opts.cert}`);
      }),
    );

  idp
    .command('list')
    .description('list IdPs and their certificates')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth idp list --json')
    .action((opts: { json?: boolean }) =>
      deps.withServices(async (services) => {
        const idps = await services.idps.list();
        deps.print(
          !!opts.json,
          { idps },
          idps
            .map(
              (i) =>
                `${i.id}\t${i.entity_id}\t${i.org}${i.jit ? '\tjit' : ''}\n${i.certificates.map((c) => `  ${c.id}\t${c.fingerprint}\tuntil ${c.not_after}`).join('\n')}`,
            )
            .join('\n'),
        );
      }),
    );
}
