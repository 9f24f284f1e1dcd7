/**
 * Helpers of the test/security suites (not a test file itself): requests from a chosen client
 * IP, the seed's password login, security-event reads, and a listening copy of a harness.
 */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { SecurityEvent } from '../../src/store/store.ts';
import type { Harness, Seeded } from '../support/harness.ts';

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' } as const;

/** POST a form from a given client IP (fastify inject's remoteAddress). */
export function postFrom(
  h: Harness,
  ip: string,
  path: string,
  form: Record<string, string> | string,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const payload = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  return h.app.inject({ method: 'POST', url: path, payload, remoteAddress: ip, headers: { ...FORM, ...headers } });
}

/** The seed's password login (grant_type=client_credentials with email and password). */
export function login(
  h: Harness,
  s: Seeded,
  credentials: { email?: string; password?: string } = {},
  ip = '127.0.0.1',
): Promise<LightMyRequestResponse> {
  return postFrom(h, ip, '/oauth/token', {
    grant_type: 'client_credentials',
    client_id: s.clientId,
    client_secret: s.clientSecret,
    email: credentials.email ?? s.email,
    password: credentials.password ?? s.password,
  });
}

/** Every security event, oldest first. */
export async function allEvents(h: Harness): Promise<SecurityEvent[]> {
  return h.store.events.list({ limit: 100_000 });
}

export async function eventsOf(h: Harness, type: string): Promise<SecurityEvent[]> {
  return (await allEvents(h)).filter((e) => e.type === type);
}

/** A 429 slow_down in OAuth JSON, with a Retry-After of whole seconds; returns the seconds. */
export function assertThrottled(res: LightMyRequestResponse): number {
  assert.equal(res.statusCode, 429, `expected 429, got ${res.statusCode} ${res.body}`);
  assert.equal(res.json().error, 'slow_down');
  assert.equal(res.headers['cache-control'], 'no-store');
  const retryAfter = String(res.headers['retry-after']);
  assert.match(retryAfter, /^\d+$/, 'Retry-After is a number of seconds');
  return Number(retryAfter);
}

/** invalid_grant: the honest "wrong email or password" answer. */
export function assertWrongPassword(res: LightMyRequestResponse): void {
  assert.equal(res.statusCode, 400, `expected 400, got ${res.statusCode} ${res.body}`);
  assert.equal(res.json().error, 'invalid_grant');
}

/** Headers of a response without those that differ per request by design. */
export function comparableHeaders(res: LightMyRequestResponse): Record<string, unknown> {
  const { 'x-request-id': _id, date: _date, ...rest } = res.headers;
  return rest;
}

/** Listens on a free loopback port; returns the origin. */
export async function listen(h: Harness): Promise<string> {
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address();
  assert.ok(address && typeof address === 'object');
  return `http://127.0.0.1:${address.port}`;
}

/** POST a form over a real socket; the body parsed as JSON when it is JSON. */
export async function fetchForm(
  url: string,
  form: Record<string, string> | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...FORM, ...headers },
    body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, json, text, headers: res.headers };
}
