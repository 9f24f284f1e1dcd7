import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Client } from '../../store/store.ts';
import type { ConsoleCookies } from './console-cookies.ts';
import { consoleHeaders } from './console-page.ts';
import type { ConsoleSession, ConsoleSessions } from './console-sessions.ts';
import type { ConsoleTokenExchange } from './console-token-exchange.ts';

/** What the console's routes share: its sessions, cookies, token calls and request checks. */
/** The header the console's own fetch calls send; a cross-site form or image cannot set it. */
export const CONSOLE_CSRF_HEADER = 'x-sei-console';

export interface ConsoleContext {
  sessions: ConsoleSessions;
  cookies: ConsoleCookies;
  exchange: ConsoleTokenExchange;
  issuer: string;
  client: () => Promise<Client>;
  /** the signed-in session of this request, tokens refreshed when due; undefined when signed out */
  current(request: FastifyRequest): Promise<ConsoleSession | undefined>;
  /** A state-changing call of the console's own script: the CSRF header, and same-origin when the browser says. */
  fromConsole(request: FastifyRequest): boolean;
}

/** RFC 9457 problem details, the admin API's error shape, for the console's own JSON endpoints. */
export function sendProblem(reply: FastifyReply, status: number, title: string, detail: string): FastifyReply {
  return consoleHeaders(reply)
    .code(status)
    .header('content-type', 'application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', title, status, detail }));
}
