import { OAuthError } from '../../common/oauth-error.ts';
import { RequestParams } from '../../common/request-params.ts';
import type { EventContext } from '../../events/security-event.ts';
import type { Grant } from '../../grants/grant.ts';
import type { LoginIssuer } from '../../sessions/login-issuer.ts';
import type { Client } from '../../store/store.ts';
import type { IssuedTokens } from '../../tokens/issued-tokens.ts';
import type { TokenRevocation } from '../../tokens/token-revocation.ts';
import { type ConsoleTokens, tokensOf } from './console-sessions.ts';

/**
 * The console's token endpoint calls, made in-process through the very grants and login issuer
 * that /oauth/token uses (so the code's bindings, PKCE, the session limit, rotation and the
 * security events are the same), without a client secret travelling anywhere.
 */
export interface ConsoleTokenExchangeDeps {
  grants: ReadonlyMap<string, Grant>;
  logins: LoginIssuer;
  revocation: TokenRevocation;
}

function form(values: Record<string, string>): RequestParams {
  return RequestParams.from('', new URLSearchParams(values).toString());
}

async function run(
  deps: ConsoleTokenExchangeDeps,
  grantType: string,
  client: Client,
  params: RequestParams,
  context: EventContext,
): Promise<{ userId: string | undefined; issued: IssuedTokens }> {
  const grant = deps.grants.get(grantType);
  if (!grant) throw new Error(`the ${grantType} grant is not registered`);
  const decision = await grant.decide({ params, client, endOtherSessions: false, audience: undefined, context });
  if (decision.kind === 'issued') return { userId: undefined, issued: decision.tokens };
  return { userId: decision.login.user.id, issued: await deps.logins.issue(decision.login, context) };
}

export class ConsoleTokenExchange {
  private readonly deps: ConsoleTokenExchangeDeps;

  constructor(deps: ConsoleTokenExchangeDeps) {
    this.deps = deps;
  }

  /** RFC 6749 §4.1.3 with the PKCE verifier; OAuthError when the code is refused. */
  async exchangeCode(
    client: Client,
    input: { code: string; redirectUri: string; verifier: string },
    context: EventContext,
  ): Promise<{ userId: string; tokens: ConsoleTokens }> {
    const params = form({
      grant_type: 'authorization_code',
      code: input.code,
      redirect_uri: input.redirectUri,
      code_verifier: input.verifier,
    });
    const { userId, issued } = await run(this.deps, 'authorization_code', client, params, context);
    if (userId === undefined) throw new Error('the code grant issued no login');
    return { userId, tokens: tokensOf(issued) };
  }

  /** New tokens for the session (RFC 6749 §6), or undefined when the refresh token is no longer good. */
  async refresh(client: Client, tokens: ConsoleTokens, context: EventContext): Promise<ConsoleTokens | undefined> {
    if (tokens.refreshToken === undefined) return undefined;
    try {
      const { issued } = await run(
        this.deps,
        'refresh_token',
        client,
        form({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken }),
        context,
      );
      return tokensOf(issued);
    } catch (error) {
      if (error instanceof OAuthError && error.status < 500) return undefined;
      throw error;
    }
  }

  /** RFC 7009: revoking the refresh token (or the access token) ends the server session behind it. */
  async revoke(client: Client, tokens: ConsoleTokens, context: EventContext): Promise<void> {
    const token = tokens.refreshToken ?? tokens.accessToken;
    await this.deps.revocation.revoke(client, token, tokens.refreshToken !== undefined ? 'refresh_token' : 'access_token', context);
  }
}
