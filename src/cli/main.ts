import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'pino';
import { checkRole } from '../accounts/account-service.ts';
import { AdminError } from '../common/admin-error.ts';
import { openPlatform, type Services } from '../composition-root.ts';
import { ConfigError, type Env } from '../config.ts';
import { CLI_CHANGE } from '../events/change-context.ts';
import { KeyEncryptionKeyError } from '../keys/key-encryption-key.ts';
import { SchemaTooNewError } from '../store/migrations.ts';
import { describeDatabaseUrl, StoreOpenError } from '../store/open-store.ts';
import type { Session } from '../store/store.ts';
import { VERSION } from '../version.ts';
import { endSessionAction, registerAdminCommands } from './admin-commands.ts';
import { registerIdpCommands } from './idp-commands.ts';
import { registerKeyCommands } from './key-commands.ts';
import { readSecretFromStdin } from './stdin.ts';

/** What `serve` needs of the running HTTP face (http/server.ts). */
export interface RunningHttpFace {
  app: { log: Pick<Logger, 'info' | 'error'> };
  close(): Promise<void>;
}

export interface Io {
  env: Env;
  out: (text: string) => void;
  err: (text: string) => void;
  stdin: NodeJS.ReadableStream;
  /**
   * Starts the HTTP face; given by the sei-auth command (bin/sei-auth.js), so that the CLI face
   * never imports the HTTP one. Absent when the commands run inside another program (tests).
   */
  serve?: (env: Env) => Promise<RunningHttpFace>;
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return Number(value);
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function sessionView(s: Session) {
  return {
    id: s.id,
    client_id: s.clientId,
    grant_type: s.grantType,
    started_at: new Date(s.startedAt).toISOString(),
    expires_at: new Date(s.expiresAt).toISOString(),
  };
}

/**
 * Builds the `sei-auth` command tree. Every management command gets the services of the
 * composition root, configured from the environment exactly as the server is.
 */
export function buildCli(io: Io): Command {
  /** Which database the last command opened, as the start-up line names it (never credentials). */
  let opened = '';
  const withServices = async <T>(fn: (services: Services, database: string) => Promise<T>): Promise<T> => {
    const platform = await openPlatform(io.env, { warn: (message) => io.err(`sei-auth: warning: ${message}`) });
    opened = describeDatabaseUrl(platform.config.databaseUrl);
    try {
      return await fn(platform.services, opened);
    } finally {
      await platform.close();
    }
  };
  /** An empty listing says on stderr which database it read, so a wrong DATABASE_URL shows at once. */
  const sayIfNone = (count: number, what: string) => {
    if (count === 0) io.err(`sei-auth: no ${what} in ${opened} (DATABASE_URL)`);
  };

  /** One JSON object with --json, readable text otherwise. */
  const print = (json: boolean, value: object, text: string) => io.out(json ? JSON.stringify(value) : text);

  const program = new Command('sei-auth')
    .description('sei-auth: an OAuth 2.0 authorization server for the SEI Platform token API')
    .version(VERSION, '-v, --version')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .addHelpText(
      'after',
      '\nExamples:\n  sei-auth serve\n  sei-auth client create --name "Reports" --redirect-url https://reports.example/callback --json\n  sei-auth user --help',
    );

  program
    .command('serve')
    .description('run the HTTP server (configuration from environment variables, or these flags)')
    .option('--port <port>', 'PORT')
    .option('--host <host>', 'HOST')
    .option('--database-url <url>', 'DATABASE_URL')
    .option('--issuer <url>', 'ISSUER')
    .option('--access-token-ttl <seconds>', 'ACCESS_TOKEN_TTL')
    .option('--refresh-token-ttl <seconds>', 'REFRESH_TOKEN_TTL')
    .option('--log-level <level>', 'LOG_LEVEL')
    .option('--metrics-port <port>', 'METRICS_PORT: serve GET /metrics on 127.0.0.1:<port> only, without a token')
    .addHelpText(
      'after',
      '\nExamples:\n  PORT=9000 DATABASE_URL=sqlite:./data/auth.db sei-auth serve\n  sei-auth serve --metrics-port 9464   # metrics at http://127.0.0.1:9464/metrics',
    )
    .action(async (opts: Record<string, string | undefined>) => {
      const env: Record<string, string | undefined> = { ...io.env };
      const flags: Record<string, string> = {
        port: 'PORT',
        host: 'HOST',
        databaseUrl: 'DATABASE_URL',
        issuer: 'ISSUER',
        accessTokenTtl: 'ACCESS_TOKEN_TTL',
        refreshTokenTtl: 'REFRESH_TOKEN_TTL',
        logLevel: 'LOG_LEVEL',
        metricsPort: 'METRICS_PORT',
      };
      for (const [flag, variable] of Object.entries(flags)) if (opts[flag] !== undefined) env[variable] = opts[flag];
      if (!io.serve) throw new AdminError('serve runs only from the sei-auth command');
      const server = await io.serve(env);
      // Graceful shutdown: refuse new requests, finish those in flight (SHUTDOWN_TIMEOUT), close
      // the store, exit 0. A second signal during it gets Node's default: immediate exit.
      const stop = (signal: NodeJS.Signals) => {
        server.app.log.info({ signal }, 'shutting down: refusing new requests, finishing those in flight');
        server.close().then(
          () => {
            server.app.log.info('stopped');
            process.exit(0);
          },
          (error: unknown) => {
            server.app.log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });

  const org = program
    .command('org')
    .description('organizations (there is always a default one)')
    .addHelpText('after', '\nExample:\n  sei-auth org create --name "Acme" --max-sessions 2 --json');
  org
    .command('create')
    .description('create an organization')
    .requiredOption('--name <name>', 'display name')
    .option('--max-sessions <k>', 'sessions a user may hold at once (users may override)', positiveInt)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth org create --name "Acme" --max-sessions 2 --json')
    .action((opts: { name: string; maxSessions?: number; json?: boolean }) =>
      withServices(async (services) => {
        const created = await services.accounts.createOrg({ name: opts.name, maxSessions: opts.maxSessions ?? null }, CLI_CHANGE);
        print(!!opts.json, created, `created organization ${created.id}`);
      }),
    );
  org
    .command('list')
    .description('list organizations')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth org list --json')
    .action((opts: { json?: boolean }) =>
      withServices(async (services) => {
        const orgs = (await services.accounts.listOrgs()).map((o) => ({ id: o.id, name: o.name, max_sessions: o.maxSessions }));
        sayIfNone(orgs.length, 'organizations');
        print(!!opts.json, { orgs }, orgs.map((o) => `${o.id}\t${o.name}\tmax-sessions=${o.max_sessions ?? 'unlimited'}`).join('\n'));
      }),
    );
  org
    .command('set-max-sessions')
    .description("set or clear an organization's session limit")
    .requiredOption('--org <id>', 'organization id')
    .addOption(new Option('--max-sessions <k>', 'the limit').argParser(positiveInt).conflicts('unlimited'))
    .option('--unlimited', 'remove the limit')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExample:\n  sei-auth org set-max-sessions --org org_123 --max-sessions 3\n  sei-auth org set-max-sessions --org org_123 --unlimited',
    )
    .action((opts: { org: string; maxSessions?: number; unlimited?: boolean; json?: boolean }) =>
      withServices(async (services) => {
        if (opts.maxSessions === undefined && !opts.unlimited) throw new AdminError('give --max-sessions K or --unlimited');
        await services.accounts.setOrgMaxSessions(opts.org, opts.maxSessions ?? null, CLI_CHANGE);
        print(!!opts.json, { id: opts.org, max_sessions: opts.maxSessions ?? null }, `updated organization ${opts.org}`);
      }),
    );

  const user = program
    .command('user')
    .description('users (people who log in)')
    .addHelpText(
      'after',
      '\nExample:\n  printf %s "correct horse battery" | sei-auth user create --email ada@example.com --password-stdin --json',
    );
  user
    .command('create')
    .description('create a user; the password is read from standard input')
    .requiredOption('--email <email>', 'login email (unique, case-insensitive)')
    .option('--org <id>', 'organization id (default: the default organization)')
    .option('--max-sessions <k>', "sessions this user may hold at once (overrides the organization's)", positiveInt)
    .option('--password-stdin', 'read the password from standard input (leave out for an SSO-only user)')
    .addOption(
      new Option('--role <role>', 'admin (manages everything) or org-admin (its organization only)').choices(['admin', 'org-admin']),
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExample:\n  printf %s "correct horse battery" | sei-auth user create --email ada@example.com --password-stdin --json',
    )
    .action((opts: { email: string; org?: string; maxSessions?: number; passwordStdin?: boolean; role?: string; json?: boolean }) =>
      withServices(async (services) => {
        const password = opts.passwordStdin ? await readSecretFromStdin(io.stdin) : undefined;
        const created = await services.accounts.createUser(
          {
            email: opts.email,
            orgId: opts.org,
            maxSessions: opts.maxSessions ?? null,
            password,
            role: opts.role === undefined ? null : checkRole(opts.role),
          },
          CLI_CHANGE,
        );
        print(!!opts.json, created, `created user ${created.id} <${created.email}>`);
      }),
    );
  user
    .command('list')
    .description('list users')
    .option('--org <id>', 'only this organization')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth user list --org org_123 --json')
    .action((opts: { org?: string; json?: boolean }) =>
      withServices(async (services) => {
        const users = (await services.accounts.listUsers(opts.org)).map((u) => ({
          id: u.id,
          email: u.email,
          org: u.orgId,
          max_sessions: u.maxSessions,
          disabled: u.disabled,
          has_password: u.passwordHash !== null,
        }));
        sayIfNone(users.length, opts.org ? `users in organization ${opts.org}` : 'users');
        print(
          !!opts.json,
          { users },
          users
            .map((u) => `${u.id}\t${u.email}\t${u.org}\tmax-sessions=${u.max_sessions ?? 'org'}${u.disabled ? '\tDISABLED' : ''}`)
            .join('\n'),
        );
      }),
    );
  user
    .command('set-password')
    .description("replace a user's password (read from standard input)")
    .requiredOption('--email <email>', 'the user')
    .requiredOption('--password-stdin', 'read the password from standard input')
    .option('--keep-sessions', "keep the user's sessions (by default a new password ends them all)")
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExample:\n  printf %s "a new long password" | sei-auth user set-password --email ada@example.com --password-stdin',
    )
    .action((opts: { email: string; keepSessions?: boolean; json?: boolean }) =>
      withServices(async (services) => {
        const { endedSessions } = await services.accounts.setPassword(
          opts.email,
          await readSecretFromStdin(io.stdin),
          { keepSessions: !!opts.keepSessions },
          CLI_CHANGE,
        );
        print(
          !!opts.json,
          { email: opts.email, ended_sessions: endedSessions },
          `password updated for ${opts.email}; ${plural(endedSessions, 'session')} ended`,
        );
      }),
    );
  user
    .command('set-max-sessions')
    .description("set or clear a user's own session limit")
    .requiredOption('--email <email>', 'the user')
    .addOption(new Option('--max-sessions <k>', 'the limit').argParser(positiveInt).conflicts('unlimited'))
    .option('--unlimited', "remove the user's own limit (the organization's applies)")
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth user set-max-sessions --email ada@example.com --max-sessions 1')
    .action((opts: { email: string; maxSessions?: number; unlimited?: boolean; json?: boolean }) =>
      withServices(async (services) => {
        if (opts.maxSessions === undefined && !opts.unlimited) throw new AdminError('give --max-sessions K or --unlimited');
        await services.accounts.setUserMaxSessions(opts.email, opts.maxSessions ?? null, CLI_CHANGE);
        print(!!opts.json, { email: opts.email, max_sessions: opts.maxSessions ?? null }, `updated ${opts.email}`);
      }),
    );
  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    user
      .command(name)
      .description(disabled ? 'disable a user and end all its sessions' : 'enable a disabled user')
      .requiredOption('--email <email>', 'the user')
      .option('--json', 'print JSON')
      .addHelpText('after', `\nExample:\n  sei-auth user ${name} --email ada@example.com --json`)
      .action((opts: { email: string; json?: boolean }) =>
        withServices(async (services) => {
          const { endedSessions } = await services.accounts.setUserDisabled(opts.email, disabled, CLI_CHANGE);
          print(!!opts.json, { email: opts.email, disabled, ended_sessions: endedSessions }, `${name}d ${opts.email}`);
        }),
      );
  }
  user
    .command('unlock')
    .description('clear a login lock (too many failed passwords) on an account, or on a client IP with --ip')
    .option('--email <email>', 'the account (need not exist: unknown emails are throttled too)')
    .option('--ip <address>', 'a client IP address instead')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth user unlock --email ada@example.com --json')
    .action((opts: { email?: string; ip?: string; json?: boolean }) =>
      withServices(async (services) => {
        if ((opts.email === undefined) === (opts.ip === undefined)) throw new AdminError('give exactly one of --email or --ip');
        const cleared = opts.email ? await services.throttle.unlockAccount(opts.email) : await services.throttle.unlockIp(opts.ip!);
        const target = opts.email ?? opts.ip!;
        print(
          !!opts.json,
          { unlocked: target, was_throttled: cleared },
          cleared ? `cleared the login lock on ${target}` : `${target} had no failed logins on record`,
        );
      }),
    );
  user
    .command('sessions')
    .description("list a user's active sessions")
    .requiredOption('--email <email>', 'the user')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth user sessions --email ada@example.com --json')
    .action((opts: { email: string; json?: boolean }) =>
      withServices(async (services) => {
        const sessions = (await services.sessions.listActive((await services.accounts.userByEmail(opts.email)).id)).map(sessionView);
        print(
          !!opts.json,
          { sessions },
          sessions.length
            ? sessions.map((s) => `${s.id}\t${s.client_id}\t${s.grant_type}\tstarted ${s.started_at}`).join('\n')
            : 'no active sessions',
        );
      }),
    );
  user
    .command('end-session')
    .description('end one session (all its tokens stop working at once)')
    .requiredOption('--session <id>', 'session id (see `user sessions`)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth user end-session --session ses_123')
    .action(endSessionAction({ withServices, print }));

  const client = program
    .command('client')
    .description('client applications (API consumers)')
    .addHelpText('after', '\nExample:\n  sei-auth client create --name "Reports" --redirect-url https://reports.example/callback --json');
  client
    .command('create')
    .description('register a client; its secret is printed once and stored only as a hash')
    .requiredOption('--name <name>', 'display name, shown on the login page')
    .option('--redirect-url <url>', 'registered redirect URL (repeat for several)', collect, [] as string[])
    .option('--refresh-tokens', 'issue refresh tokens in the authorization-code flow')
    .option('--access-ttl <seconds>', 'access token lifetime for this client', positiveInt)
    .option('--refresh-ttl <seconds>', 'refresh token (absolute) lifetime for this client', positiveInt)
    .addOption(
      new Option('--token-type <type>', "token_type in responses (default: BearerToken, the seed's; Bearer for --service)").choices([
        'BearerToken',
        'Bearer',
      ]),
    )
    .option('--refresh-grace <seconds>', 'window in which a just-rotated refresh token may be used again', nonNegativeInt)
    .option('--no-query-secrets', 'refuse client_secret in the query string (the seed allows it)')
    .option('--allow-no-pkce', 'let authorize requests leave out PKCE (required by default, RFC 9700 §2.1.1)')
    .option('--scope <scopes>', 'scopes the client may be granted, space-separated (repeatable); none by default', collect, [] as string[])
    // Checked by the service, not commander: a bad value is one line on stderr, not the help after it.
    .option('--access-token-format <format>', 'access tokens: opaque (default) strings or RFC 9068 jwt')
    .option('--service', 'a machine client: grant_type=client_credentials without email/password gets a token for the client itself')
    .option('--resource-server', 'an API: no logins, may introspect the tokens issued for its --audience')
    .option('--audience <uri>', 'the audience URI of a --resource-server (what clients name with resource=)')
    .option('--public', 'a single-page or mobile app: no secret (token endpoint auth "none"), PKCE always')
    .option(
      '--web-origin <origin>',
      'an origin allowed CORS on the token, userinfo, jwks and revocation endpoints (repeatable)',
      collect,
      [] as string[],
    )
    .option(
      '--post-logout-redirect-url <url>',
      'where /oauth/logout may send the browser afterwards (OpenID Connect RP-Initiated Logout; repeatable)',
      collect,
      [] as string[],
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  sei-auth client create --name "Reports" --redirect-url https://reports.example/callback --refresh-tokens --scope "reports:read" --json\n  sei-auth client create --name "Dashboard" --redirect-url https://dash.example/cb --scope "openid email" --post-logout-redirect-url https://dash.example/ --json\n  sei-auth client create --public --name "Web app" --redirect-url https://app.example/cb --web-origin https://app.example --scope "openid email" --refresh-tokens --json\n  sei-auth client create --service --name "Billing job" --scope "invoices:write" --access-token-format jwt --json\n  sei-auth client create --resource-server --name "Invoices API" --audience https://api.example.com/invoices --json',
    )
    .action(
      (opts: {
        name: string;
        redirectUrl: string[];
        refreshTokens?: boolean;
        accessTtl?: number;
        refreshTtl?: number;
        tokenType?: string;
        refreshGrace?: number;
        querySecrets: boolean;
        allowNoPkce?: boolean;
        scope: string[];
        accessTokenFormat?: string;
        service?: boolean;
        resourceServer?: boolean;
        audience?: string;
        public?: boolean;
        webOrigin: string[];
        postLogoutRedirectUrl: string[];
        json?: boolean;
      }) =>
        withServices(async (services) => {
          const created = await services.clients.createClient(
            {
              name: opts.name,
              redirectUrls: opts.redirectUrl,
              refreshTokens: !!opts.refreshTokens,
              accessTtl: opts.accessTtl,
              refreshTtl: opts.refreshTtl,
              tokenType: opts.tokenType,
              refreshGrace: opts.refreshGrace,
              querySecrets: opts.querySecrets,
              allowNoPkce: !!opts.allowNoPkce,
              scopes: opts.scope,
              accessTokenFormat: opts.accessTokenFormat,
              service: !!opts.service,
              resourceServer: !!opts.resourceServer,
              audience: opts.audience,
              public: !!opts.public,
              webOrigins: opts.webOrigin,
              postLogoutRedirectUrls: opts.postLogoutRedirectUrl,
            },
            CLI_CHANGE,
          );
          print(
            !!opts.json,
            created,
            created.client_secret === undefined
              ? `client_id:     ${created.client_id}\n(a public client: no secret)`
              : `client_id:     ${created.client_id}\nclient_secret: ${created.client_secret}\n(the secret is shown only now)`,
          );
        }),
    );
  client
    .command('list')
    .description('list clients (never their secrets)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth client list --json')
    .action((opts: { json?: boolean }) =>
      withServices(async (services) => {
        const clients = (await services.clients.listClients()).map((c) => ({
          client_id: c.id,
          name: c.name,
          redirect_urls: c.redirectUrls,
          refresh_tokens: c.refreshTokens,
          access_ttl: c.accessTtl,
          refresh_ttl: c.refreshTtl,
          token_type: c.tokenType,
          refresh_grace: c.refreshGrace,
          query_secrets: c.querySecrets,
          require_pkce: c.requirePkce,
          kind: c.kind,
          scope: c.scopes.join(' '),
          access_token_format: c.accessTokenFormat,
          ...(c.audience !== null ? { audience: c.audience } : {}),
          public: c.public,
          web_origins: c.webOrigins,
          post_logout_redirect_urls: c.postLogoutRedirectUrls,
          disabled: c.disabled,
        }));
        sayIfNone(clients.length, 'clients');
        print(
          !!opts.json,
          { clients },
          clients.map((c) => `${c.client_id}\t${c.name}\t${c.redirect_urls.join(' ')}${c.disabled ? '\tDISABLED' : ''}`).join('\n'),
        );
      }),
    );
  client
    .command('rotate-secret')
    .description('replace a client secret (the old one stops working at once, or after --grace-seconds)')
    .requiredOption('--client <id>', 'client id')
    .option('--grace-seconds <s>', 'the old secret keeps working this long (zero-downtime rotation)', nonNegativeInt)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth client rotate-secret --client cli_123 --grace-seconds 3600 --json')
    .action((opts: { client: string; graceSeconds?: number; json?: boolean }) =>
      withServices(async (services) => {
        const rotated = await services.clients.rotateClientSecret(opts.client, { graceSeconds: opts.graceSeconds }, CLI_CHANGE);
        const shown = {
          client_id: rotated.client_id,
          client_secret: rotated.client_secret,
          ...(rotated.previous_secret_expires_at ? { previous_secret_expires_at: rotated.previous_secret_expires_at } : {}),
        };
        print(!!opts.json, shown, `client_id:     ${rotated.client_id}\nclient_secret: ${rotated.client_secret}`);
      }),
    );
  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    client
      .command(name)
      .description(disabled ? 'disable a client: its requests are refused and its sessions end' : 'enable a disabled client')
      .requiredOption('--client <id>', 'client id')
      .option('--json', 'print JSON')
      .addHelpText('after', `\nExample:\n  sei-auth client ${name} --client cli_123`)
      .action((opts: { client: string; json?: boolean }) =>
        withServices(async (services) => {
          const { endedSessions } = await services.clients.setClientDisabled(opts.client, disabled, CLI_CHANGE);
          print(
            !!opts.json,
            { client_id: opts.client, disabled, ended_sessions: endedSessions },
            `${name}d ${opts.client}${disabled ? `; ${plural(endedSessions, 'session')} ended` : ''}`,
          );
        }),
      );
  }

  registerIdpCommands(program, { withServices, print, sayIfNone });
  registerAdminCommands(program, { withServices, print, sayIfNone, stdin: io.stdin });
  registerKeyCommands(program, { withServices, print });

  const db = program.command('db').description('the database itself').addHelpText('after', '\nExample:\n  sei-auth db prune --json');
  db.command('prune')
    .description(
      'delete now what the server prunes every MAINTENANCE_INTERVAL: sessions ended or expired more than SESSION_RETENTION_DAYS ago with their tokens, codes expired as long ago, events older than EVENT_RETENTION_DAYS',
    )
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  SESSION_RETENTION_DAYS=1 sei-auth db prune --json')
    .action((opts: { json?: boolean }) =>
      withServices(async (services, database) => {
        const r = await services.maintenance.run();
        print(
          !!opts.json,
          {
            sessions: r.sessions,
            service_tokens: r.serviceTokens,
            codes: r.codes,
            events: r.events,
            saml_replay: r.samlReplay,
            saml_requests: r.samlRequests,
            throttles: r.throttles,
            batches: r.batches,
            longest_batch_ms: r.longestBatchMs,
          },
          `pruned ${database}: ${r.sessions} sessions (with their tokens), ${r.codes} codes, ${r.serviceTokens} service tokens, ${r.events} events, ` +
            `${r.samlReplay} SAML replay entries, ${r.throttles} login counters, in ${r.batches} batches (longest ${r.longestBatchMs} ms)`,
        );
      }),
    );

  return program;
}

/** Runs the CLI; resolves to the process exit code (serve keeps running and resolves 0). */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const program = buildCli(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    const e = error as { code?: string; exitCode?: number };
    if (typeof e?.code === 'string' && e.code.startsWith('commander.')) {
      // Help and --version exit 0; usage errors were already printed by commander.
      return e.exitCode ?? 2;
    }
    if (
      error instanceof AdminError ||
      error instanceof ConfigError ||
      error instanceof SchemaTooNewError ||
      error instanceof StoreOpenError ||
      error instanceof KeyEncryptionKeyError
    ) {
      io.err(`sei-auth: ${error.message}`);
      return 1;
    }
    io.err(`sei-auth: ${(error as Error)?.message ?? 'failed'}`);
    return 1;
  }
}
