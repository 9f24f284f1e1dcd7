/** Signing in to the admin console over fastify's inject: /admin/login → login page → callback. */
import assert from 'node:assert/strict';
import { openLoginPage, setCookies, submitLogin } from '../code-flow/flow.ts';
import type { Harness } from '../support/harness.ts';

export interface ConsoleSignIn {
  /** `name=value` of the session cookie */
  cookie: string;
  /** the whole Set-Cookie line of the session cookie */
  setCookie: string;
}

export function cookieOf(lines: string[], name: RegExp): string | undefined {
  return lines.find((line) => name.test(line));
}

/** Runs the whole flow for a user; returns the session cookie. */
export async function consoleSignIn(h: Harness, user: { email: string; password: string }): Promise<ConsoleSignIn> {
  const start = await h.app.inject({ method: 'GET', url: '/admin/login' });
  assert.equal(start.statusCode, 302);
  const signIn = cookieOf(setCookies(start), /^(__Host-)?sei_console_signin=/)!;
  const authorize = new URL(String(start.headers.location), h.issuer);
  const page = await openLoginPage(h, authorize.search.slice(1));
  const submitted = await submitLogin(h, page, user);
  assert.equal(submitted.statusCode, 303, submitted.body);
  const callback = new URL(String(submitted.headers.location));
  const done = await h.app.inject({
    method: 'GET',
    url: `${callback.pathname}${callback.search}`,
    headers: { cookie: signIn.split(';')[0]! },
  });
  assert.equal(done.statusCode, 200, done.body);
  const setCookie = cookieOf(setCookies(done), /^(__Host-)?sei_console=[^;]/);
  assert.ok(setCookie, 'the callback sets the session cookie');
  return { cookie: setCookie.split(';')[0]!, setCookie };
}

export const CONSOLE_HEADER = { 'x-sei-console': '1' };
