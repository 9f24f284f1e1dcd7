/**
 * The console's one way to the server: same-origin calls to the BFF's proxy (/admin/api/… →
 * /admin/v1/…), with the header the proxy requires (its CSRF check). The session cookie is
 * HttpOnly: this script never sees a token.
 */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  /** field-level errors, when the API names the field */
  errors?: unknown;
  field?: string;
}

export type ApiResult<T> = { ok: true; status: number; data: T; etag: string | null } | { ok: false; status: number; problem: Problem };

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Item = Record<string, unknown> & { id?: string };

const HEADERS = { 'x-sei-console': '1', accept: 'application/json' };

export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<ApiResult<T>> {
  const init: RequestInit = { method, headers: { ...HEADERS, ...extra }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(`/admin/api/${path}`, init);
  } catch {
    return { ok: false, status: 0, problem: { status: 0, title: 'Network error', detail: 'The server could not be reached.' } };
  }
  if (response.status === 401) {
    // The console session ended (signed out elsewhere, expired): sign in again.
    window.location.assign('/admin/login');
    return { ok: false, status: 401, problem: { status: 401, title: 'Signed out', detail: 'Your session has ended.' } };
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const problem = (json && typeof json === 'object' ? json : { detail: text || response.statusText }) as Problem;
    return { ok: false, status: response.status, problem: { ...problem, status: response.status } };
  }
  return { ok: true, status: response.status, data: json as T, etag: response.headers.get('etag') };
}

export function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

export interface Me {
  user_id: string;
  email: string | null;
  org: string | null;
  role: string | null;
}

export async function whoAmI(): Promise<Me | undefined> {
  const response = await fetch('/admin/session', { headers: HEADERS, credentials: 'same-origin' });
  if (!response.ok) return undefined;
  return (await response.json()) as Me;
}

export async function signOut(): Promise<void> {
  await fetch('/admin/logout', { method: 'POST', headers: HEADERS, credentials: 'same-origin' });
  window.location.assign('/admin/login');
}
