import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AdminError } from '../common/admin-error.ts';
import type { Services } from '../composition-root.ts';
import { CLI_CHANGE } from '../events/change-context.ts';

export interface IdpCommandDeps {
  withServices<T>(fn: (services: Services) => Promise<T>): Promise<T>;
  print(json: boolean, value: object, text: string): void;
  sayIfNone(count: number, what: string): void;
}

function readPem(path: string): string {
  return readFile(path, 'certificate');
}

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new AdminError(`cannot read the ${what} file ${path}`);
  }
}

/** `--domains a.example,b.example` → the list (each checked by the service). */
function domainList(value: string): string[] {
  return value.split(',').map((d) => d.trim());
}

/** `sei-auth idp …`: the SAML identity providers whose signed assertions the token endpoint accepts. */
export function registerIdpCommands(program: Command, deps: IdpCommandDeps): void {
  const idp = program
    .command('idp')
    .description('SAML identity providers (customers\u2019 IdPs) and their signing certificates')
    .addHelpText('after', '\nExample:\n  sei-auth idp create --entity-id https://idp.acme.example/saml --cert acme-signing.pem --json');
  idp
    .command('create')
    .description('register an IdP of an organization: from its metadata, or its entity id and signing certificate')
    .option('--org <id>', 'organization whose users this IdP vouches for (default: the default organization)')
    .option('--metadata <file.xml>', "the IdP's SAML metadata (EntityDescriptor): entity id, SSO URL and signing certificates")
    .option('--entity-id <id>', "the IdP's entity id (the Issuer of its assertions); with --cert")
    .option('--cert <file.pem>', "the IdP's signing certificate, PEM; with --entity-id")
    .option('--sso-url <url>', "the IdP's SingleSignOnService URL (HTTP-Redirect binding): browsers of its --domains sign in there")
    .option(
      '--domains <a.example,b.example>',
      'the email domains this IdP vouches for, comma-separated (lower-case ASCII or IDNA A-labels, no wildcards); a domain belongs to one IdP only',
      domainList,
    )
    .option(
      '--sign-requests',
      'sign the AuthnRequests sent to this IdP (for IdPs that require it; set automatically from metadata with WantAuthnRequestsSigned="true")',
    )
    .option('--jit', 'create unknown users of the organization on their first SSO login, only inside --domains (required with --jit)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  sei-auth idp create --org org_123 --metadata acme-idp-metadata.xml --domains acme.example --json\n' +
        '  sei-auth idp create --org org_123 --entity-id https://idp.acme.example/saml --cert acme-signing.pem --sso-url https://idp.acme.example/sso --domains acme.example,acme-corp.example --jit --json',
    )
    .action(
      (opts: {
        org?: string;
        metadata?: string;
        entityId?: string;
        cert?: string;
        ssoUrl?: string;
        domains?: string[];
        jit?: boolean;
        signRequests?: boolean;
        json?: boolean;
      }) =>
        deps.withServices(async ({ idps }) => {
          const common = { orgId: opts.org, jit: !!opts.jit, domains: opts.domains ?? [], signRequests: !!opts.signRequests };
          let created: { id: string };
          if (opts.metadata !== undefined) {
            if (opts.entityId !== undefined || opts.cert !== undefined || opts.ssoUrl !== undefined) {
              throw new AdminError(
                '--metadata already holds the entity id, SSO URL and certificates: leave out --entity-id, --cert and --sso-url',
              );
            }
            created = await idps.createFromMetadata({ ...common, metadataXml: readFile(opts.metadata, 'metadata') }, CLI_CHANGE);
          } else {
            if (opts.entityId === undefined || opts.cert === undefined) {
              throw new AdminError('give --metadata FILE.xml, or --entity-id and --cert (and --sso-url for browser sign-in)');
            }
            created = await idps.create(
              { ...common, entityId: opts.entityId, certPem: readPem(opts.cert), ssoUrl: opts.ssoUrl },
              CLI_CHANGE,
            );
          }
          deps.print(!!opts.json, created, `registered identity provider ${created.id}`);
        }),
    );

  idp
    .command('set-sso-url')
    .description("set or remove an IdP's SingleSignOnService URL (browser sign-in of its domains)")
    .requiredOption('--idp <id>', 'IdP id or entity id')
    .option('--sso-url <url>', 'the SSO URL (HTTP-Redirect binding)')
    .option('--none', 'remove it: the domains sign in with passwords again')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExample:\n  sei-auth idp set-sso-url --idp https://idp.acme.example/saml --sso-url https://idp.acme.example/sso --json',
    )
    .action((opts: { idp: string; ssoUrl?: string; none?: boolean; json?: boolean }) =>
      deps.withServices(async ({ idps }) => {
        if ((opts.ssoUrl === undefined) === !opts.none) throw new AdminError('give exactly one of --sso-url URL or --none');
        const result = await idps.setSsoUrl(opts.idp, opts.ssoUrl ?? null);
        deps.print(!!opts.json, result, result.sso_url === null ? 'SSO URL removed' : `SSO URL: ${result.sso_url}`);
      }),
    );

  idp
    .command('set-sign-requests')
    .description('sign (or stop signing) the AuthnRequests sent to an IdP; the SP certificate is in GET /saml/metadata')
    .requiredOption('--idp <id>', 'IdP id or entity id')
    .option('--on', 'sign them (the IdP wants signed AuthnRequests)')
    .option('--off', 'send them unsigned')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth idp set-sign-requests --idp https://idp.acme.example/saml --on --json')
    .action((opts: { idp: string; on?: boolean; off?: boolean; json?: boolean }) =>
      deps.withServices(async ({ idps }) => {
        if (!!opts.on === !!opts.off) throw new AdminError('give exactly one of --on or --off');
        const result = await idps.setSignRequests(opts.idp, !!opts.on);
        deps.print(!!opts.json, result, result.sign_requests ? 'AuthnRequests are signed' : 'AuthnRequests are unsigned');
      }),
    );

  idp
    .command('add-domain')
    .description('add email domains an IdP vouches for')
    .requiredOption('--idp <id>', 'IdP id or entity id')
    .requiredOption('--domains <a.example,b.example>', 'the domains to add, comma-separated', domainList)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth idp add-domain --idp https://idp.acme.example/saml --domains acme-labs.example --json')
    .action((opts: { idp: string; domains: string[]; json?: boolean }) =>
      deps.withServices(async ({ idps }) => {
        const result = await idps.addDomains(opts.idp, opts.domains);
        deps.print(!!opts.json, result, `domains: ${result.domains.join(', ')}`);
      }),
    );

  idp
    .command('remove-domain')
    .description('remove an email domain from an IdP: its users can no longer sign in through it')
    .requiredOption('--idp <id>', 'IdP id or entity id')
    .requiredOption('--domain <a.example>', 'the domain to remove')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth idp remove-domain --idp https://idp.acme.example/saml --domain acme-labs.example --json')
    .action((opts: { idp: string; domain: string; json?: boolean }) =>
      deps.withServices(async ({ idps }) => {
        const result = await idps.removeDomain(opts.idp, opts.domain);
        deps.print(!!opts.json, result, `domains: ${result.domains.join(', ') || '(none)'}`);
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
    .command('update')
    .description('change an IdP: JIT, SSO URL, and (replacing them) its domains and certificates, in one change')
    .requiredOption('--idp <id>', 'IdP id')
    .option('--jit', 'create unknown users of its domains on first login')
    .option('--no-jit', 'stop creating users just in time')
    .option('--sso-url <url>', 'the SSO URL (HTTP-Redirect binding); "none" removes it')
    .option('--domains <a.example,b.example>', 'replace its email domains', domainList)
    .option('--cert <file.pem>', 'replace its certificates (repeat for two)', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth idp update --idp idp_123 --domains acme.example --jit --json')
    .action((opts: { idp: string; jit?: boolean; ssoUrl?: string; domains?: string[]; cert: string[]; json?: boolean }) =>
      deps.withServices(async ({ idps }) => {
        const updated = await idps.update(
          opts.idp,
          {
            jit: opts.jit,
            ssoUrl: opts.ssoUrl === undefined ? undefined : opts.ssoUrl === 'none' ? null : opts.ssoUrl,
            domains: opts.domains,
            certificates: opts.cert.length ? opts.cert.map(readPem) : undefined,
          },
          CLI_CHANGE,
        );
        const view = await idps.view(updated);
        deps.print(!!opts.json, view, `updated identity provider ${view.id}`);
      }),
    );
  idp
    .command('delete')
    .description('remove an IdP with its certificates and domains (its users can no longer sign in through it)')
    .requiredOption('--idp <id>', 'IdP id')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth idp delete --idp idp_123')
    .action((opts: { idp: string; json?: boolean }) =>
      deps.withServices(async ({ idps }) => {
        await idps.delete(opts.idp, CLI_CHANGE);
        deps.print(!!opts.json, { id: opts.idp, deleted: true }, `deleted identity provider ${opts.idp}`);
      }),
    );

  idp
    .command('list')
    .description('list IdPs, their email domains and their certificates')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth idp list --json')
    .action((opts: { json?: boolean }) =>
      deps.withServices(async (services) => {
        const idps = await services.idps.list();
        deps.sayIfNone(idps.length, 'identity providers');
        deps.print(
          !!opts.json,
          { idps },
          idps
            .map(
              (i) =>
                `${i.id}\t${i.entity_id}\t${i.org}${i.jit ? '\tjit' : ''}${i.sign_requests ? '\tsign-requests' : ''}\tdomains=${i.domains.join(',') || '(none)'}\n${i.certificates.map((c) => `  ${c.id}\t${c.fingerprint}\tuntil ${c.not_after}`).join('\n')}`,
            )
            .join('\n'),
        );
      }),
    );
}
