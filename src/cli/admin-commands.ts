import { type Command, InvalidArgumentError, Option } from 'commander';
import { checkRole } from '../accounts/account-service.ts';
import { eventView, orgView, sessionView, userView } from '../admin/views.ts';
import { AdminError } from '../common/admin-error.ts';
import type { Services } from '../composition-root.ts';
import { CLI_CHANGE } from '../events/change-context.ts';
import { readSecretFromStdin } from './stdin.ts';

export interface AdminCommandDeps {
  withServices<T>(fn: (services: Services) => Promise<T>): Promise<T>;
  print(json: boolean, value: object, text: string): void;
  sayIfNone(count: number, what: string): void;
  stdin: NodeJS.ReadableStream;
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--max-sessions K` or `--max-sessions unlimited`. */
function limitOrUnlimited(value: string): number | null {
  if (value === 'unlimited') return null;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number of at least 1, or unlimited');
  return Number(value);
}

function bool(value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new InvalidArgumentError('must be true or false');
  return value === 'true';
}

const sub = (program: Command, name: string): Command => {
  const found = program.commands.find((c) => c.name() === name);
  if (!found) throw new Error(`no ${name} command`);
  return found;
};

/**
 * The CLI side of the admin API (contract §9): every API operation has a command here or in
 * main.ts / idp-commands.ts, on the same services; each change is recorded with the actor `cli`.
 */
/** `session end` and `user end-session`: one session ended, on the same service. */
export function endSessionAction({ withServices, print }: Pick<AdminCommandDeps, 'withServices' | 'print'>) {
  return (opts: { session: string; json?: boolean }) =>
    withServices(async (services) => {
      await services.sessions.end(opts.session, CLI_CHANGE);
      print(!!opts.json, { id: opts.session, ended: true }, `ended session ${opts.session}`);
    });
}

export function registerAdminCommands(program: Command, deps: AdminCommandDeps): void {
  const { withServices, print } = deps;
  const org = sub(program, 'org');
  org
    .command('update')
    .description("change an organization's name or session limit")
    .requiredOption('--org <id>', 'organization id')
    .option('--name <name>', 'display name')
    .option('--max-sessions <k>', 'sessions a user may hold at once, or "unlimited"', limitOrUnlimited)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth org update --org org_123 --name "Acme Ltd" --max-sessions 3 --json')
    .action((opts: { org: string; name?: string; maxSessions?: number | null; json?: boolean }) =>
      withServices(async (services) => {
        const updated = await services.accounts.updateOrg(opts.org, { name: opts.name, maxSessions: opts.maxSessions }, CLI_CHANGE);
        print(!!opts.json, orgView(updated), `updated organization ${updated.id}`);
      }),
    );
  org
    .command('delete')
    .description('delete an organization (refused while it has users, unless --cascade erases them)')
    .requiredOption('--org <id>', 'organization id')
    .option('--cascade', 'erase its users and IdPs too')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth org delete --org org_123 --cascade --json')
    .action((opts: { org: string; cascade?: boolean; json?: boolean }) =>
      withServices(async (services) => {
        const { erasedUsers } = await services.accounts.deleteOrg(opts.org, { cascade: !!opts.cascade }, CLI_CHANGE);
        print(!!opts.json, { id: opts.org, deleted: true, erased_users: erasedUsers }, `deleted organization ${opts.org}`);
      }),
    );

  const user = sub(program, 'user');
  const userId = async (services: Services, opts: { user?: string; email?: string }) => {
    if ((opts.user === undefined) === (opts.email === undefined)) throw new AdminError('give exactly one of --user ID or --email');
    return opts.user ?? (await services.accounts.userByEmail(opts.email!)).id;
  };
  user
    .command('update')
    .description("change a user's role, session limit or disabled state")
    .option('--user <id>', 'user id')
    .option('--email <email>', 'or the user by email')
    .addOption(new Option('--role <role>', 'admin, org-admin or none').choices(['admin', 'org-admin', 'none']))
    .option('--max-sessions <k>', 'sessions this user may hold at once, or "unlimited"', limitOrUnlimited)
    .option('--disabled <bool>', 'true disables the user and ends its sessions', bool)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth user update --email ada@example.com --role org-admin --json')
    .action((opts: { user?: string; email?: string; role?: string; maxSessions?: number | null; disabled?: boolean; json?: boolean }) =>
      withServices(async (services) => {
        const id = await userId(services, opts);
        const change = {
          role: opts.role === undefined ? undefined : checkRole(opts.role),
          maxSessions: opts.maxSessions,
          disabled: opts.disabled,
        };
        const updated = await services.accounts.updateUser(id, change, CLI_CHANGE);
        print(!!opts.json, userView(updated), `updated user ${updated.id}`);
      }),
    );
  user
    .command('delete')
    .description('erase a user: its sessions end, its row is deleted, its events keep only a pseudonymous id')
    .option('--user <id>', 'user id')
    .option('--email <email>', 'or the user by email')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth user delete --email ada@example.com --json')
    .action((opts: { user?: string; email?: string; json?: boolean }) =>
      withServices(async (services) => {
        const id = await userId(services, opts);
        const { endedSessions } = await services.accounts.deleteUser(id, CLI_CHANGE);
        print(!!opts.json, { id, deleted: true, ended_sessions: endedSessions }, `erased user ${id}`);
      }),
    );
  user
    .command('end-sessions')
    .description('end every session of a user (all its tokens stop working at once)')
    .option('--user <id>', 'user id')
    .option('--email <email>', 'or the user by email')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth user end-sessions --email ada@example.com --json')
    .action((opts: { user?: string; email?: string; json?: boolean }) =>
      withServices(async (services) => {
        const id = await userId(services, opts);
        const { endedSessions } = await services.accounts.endSessions(id, CLI_CHANGE);
        print(!!opts.json, { id, ended_sessions: endedSessions }, `ended ${endedSessions} sessions of ${id}`);
      }),
    );
  user
    .command('set-password-by-id')
    .description("replace a user's password by user id (read from standard input)")
    .requiredOption('--user <id>', 'user id')
    .option('--keep-sessions', "keep the user's sessions")
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  printf %s "a new long password" | sei-auth user set-password-by-id --user usr_123 --json')
    .action((opts: { user: string; keepSessions?: boolean; json?: boolean }) =>
      withServices(async (services) => {
        const password = await readSecretFromStdin(deps.stdin);
        const { endedSessions } = await services.accounts.setPasswordById(
          opts.user,
          password,
          { keepSessions: !!opts.keepSessions },
          CLI_CHANGE,
        );
        print(!!opts.json, { id: opts.user, ended_sessions: endedSessions }, `password updated for ${opts.user}`);
      }),
    );

  const client = sub(program, 'client');
  client
    .command('update')
    .description('change a client: every setting `client create` takes but its kind and audience')
    .requiredOption('--client <id>', 'client id')
    .option('--name <name>', 'display name')
    .option('--redirect-url <url>', 'replace the redirect URLs (repeat for several)', collect, [] as string[])
    .option('--refresh-tokens <bool>', 'issue refresh tokens', bool)
    .option('--access-ttl <seconds>', 'access token lifetime, or 0 for the server default', wholeNumber)
    .option('--refresh-ttl <seconds>', 'refresh token lifetime, or 0 for the server default', wholeNumber)
    .addOption(new Option('--token-type <type>', 'token_type in responses').choices(['BearerToken', 'Bearer']))
    .option('--refresh-grace <seconds>', 'refresh-token reuse window', wholeNumber)
    .option('--scope <scopes>', 'replace the scopes (space-separated, repeatable; "" for none)', collect, [] as string[])
    .addOption(new Option('--access-token-format <format>', 'opaque or jwt').choices(['opaque', 'jwt']))
    .option('--disabled <bool>', 'true disables the client and ends its sessions', bool)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExample:\n  sei-auth client update --client cl_123 --redirect-url https://app.example/cb --scope "reports:read" --json',
    )
    .action(
      (opts: {
        client: string;
        name?: string;
        redirectUrl: string[];
        refreshTokens?: boolean;
        accessTtl?: number;
        refreshTtl?: number;
        tokenType?: string;
        refreshGrace?: number;
        scope: string[];
        accessTokenFormat?: string;
        disabled?: boolean;
        json?: boolean;
      }) =>
        withServices(async (services) => {
          const updated = await services.clients.updateClient(
            opts.client,
            {
              name: opts.name,
              redirectUrls: opts.redirectUrl.length ? opts.redirectUrl : undefined,
              refreshTokens: opts.refreshTokens,
              accessTtl: opts.accessTtl === undefined ? undefined : opts.accessTtl || null,
              refreshTtl: opts.refreshTtl === undefined ? undefined : opts.refreshTtl || null,
              tokenType: opts.tokenType,
              refreshGrace: opts.refreshGrace,
              scopes: opts.scope.length ? opts.scope.filter((s) => s.trim() !== '') : undefined,
              accessTokenFormat: opts.accessTokenFormat,
              disabled: opts.disabled,
            },
            CLI_CHANGE,
          );
          print(!!opts.json, { client_id: updated.id, updated: true }, `updated client ${updated.id}`);
        }),
    );
  client
    .command('delete')
    .description('delete a client: its sessions end and everything issued to it goes')
    .requiredOption('--client <id>', 'client id')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth client delete --client cl_123 --json')
    .action((opts: { client: string; json?: boolean }) =>
      withServices(async (services) => {
        const { endedSessions } = await services.clients.deleteClient(opts.client, CLI_CHANGE);
        print(!!opts.json, { client_id: opts.client, deleted: true, ended_sessions: endedSessions }, `deleted client ${opts.client}`);
      }),
    );

  const session = program
    .command('session')
    .description('sessions (they start with a login)')
    .addHelpText('after', '\nExample:\n  sei-auth session list --active --json');
  session
    .command('list')
    .description('list sessions, newest first')
    .option('--user <email>', 'only this user')
    .option('--active', 'only sessions neither ended nor expired')
    .option('--limit <n>', 'at most N (default 100)', wholeNumber)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth session list --user ada@example.com --active --json')
    .action((opts: { user?: string; active?: boolean; limit?: number; json?: boolean }) =>
      withServices(async (services) => {
        const userId = opts.user ? (await services.accounts.userByEmail(opts.user)).id : undefined;
        const now = Date.now();
        const rows = await services.sessions.page({ userId, activeAt: opts.active ? now : undefined, limit: opts.limit ?? 100 });
        const sessions = rows.map((s) => sessionView(s, now));
        deps.sayIfNone(sessions.length, 'sessions');
        print(
          !!opts.json,
          { sessions },
          sessions.map((s) => `${s.id}\t${s.user_id}\t${s.client_id}\t${s.started_at}\t${s.active ? 'active' : 'ended'}`).join('\n'),
        );
      }),
    );
  session
    .command('end')
    .description('end one session (all its tokens stop working at once)')
    .requiredOption('--session <id>', 'session id')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth session end --session ses_123 --json')
    .action(endSessionAction(deps));

  program
    .command('events')
    .description('read the security event log, newest first')
    .option('--type <type>', 'only this event type, e.g. login_failed or user_updated')
    .option('--user <email-or-id>', 'only this user (email, or id: also an erased user\u2019s pseudonymous id)')
    .option('--client <id>', 'only this client')
    .option('--ip <address>', 'only this client IP')
    .option('--since <time>', 'ISO 8601 time, e.g. 2026-11-27T00:00:00Z')
    .option('--limit <n>', 'the newest N (default 1000)', wholeNumber)
    .option('--oldest-first', 'list the page oldest first')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  sei-auth events --type user_updated --since 2026-11-27T00:00:00Z --limit 50 --json')
    .action(
      (opts: {
        type?: string;
        user?: string;
        client?: string;
        ip?: string;
        since?: string;
        limit?: number;
        oldestFirst?: boolean;
        json?: boolean;
      }) =>
        withServices(async (services) => {
          let since: number | undefined;
          if (opts.since !== undefined) {
            since = Date.parse(opts.since);
            if (Number.isNaN(since)) throw new AdminError('--since must be an ISO 8601 time');
          }
          const userId =
            opts.user === undefined ? undefined : opts.user.includes('@') ? (await services.accounts.userByEmail(opts.user)).id : opts.user;
          const rows = await services.events.page({
            type: opts.type,
            userId,
            clientId: opts.client,
            ip: opts.ip,
            since,
            limit: opts.limit ?? 1000,
          });
          const events = rows.map(eventView);
          if (opts.oldestFirst) events.reverse();
          deps.sayIfNone(events.length, 'events');
          print(
            !!opts.json,
            { events },
            events
              .map(
                (e) =>
                  `${e.at}\t${e.type}\t${e.reason ?? ''}\t${e.email ?? e.user_id ?? ''}\t${e.client_id ?? ''}\t${e.ip ?? ''}\t${e.actor ?? ''}`,
              )
              .join('\n'),
          );
        }),
    );
}
