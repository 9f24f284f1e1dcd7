import { escapeHtml, htmlDocument } from './html.ts';

/**
 * The page shown when an authorization request cannot go back to the client (unknown client,
 * unverified redirect URI, a malformed request): it explains and links nowhere (RFC 6749 §4.1.2.1).
 */
export function renderErrorPage(view: { description: string }): string {
  const body = `<h1>This sign-in link does not work</h1>
<div class="alert" role="alert">${escapeHtml(view.description)}</div>
<p class="note">Go back to the application you came from and start signing in again. If this keeps happening, tell the application's support team.</p>`;
  return htmlDocument({ title: 'Sign-in request not valid – SEI', body });
}
