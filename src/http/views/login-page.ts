import { escapeHtml, htmlDocument } from './html.ts';

/**
 * The login page of the authorization endpoint: markup only, every value escaped. Works
 * without JavaScript (there is none); labels, autocomplete and an alert region for screen readers.
 */
export interface LoginPageView {
  clientName: string;
  /** where the user goes back to after signing in, shown so they can tell where they are */
  redirectHost: string;
  /** contract §5: the scopes the user grants by signing in */
  scopes: readonly string[];
  /** the authorize parameters, carried in hidden fields to the POST, which re-validates them */
  hidden: ReadonlyArray<readonly [string, string]>;
  csrfField: string;
  csrfToken: string;
  /** the email typed before, kept when the page is shown again */
  email?: string;
  /** one message for the user: a wrong password, an expired form … */
  error?: string;
}

/** What the application asks for, one scope per line, so the user sees it before signing in. */
function scopeList(scopes: readonly string[]): string {
  if (scopes.length === 0) return '';
  const items = scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('');
  return `<section class="scopes" aria-labelledby="scopes-title"><h2 id="scopes-title">It asks for</h2><ul>${items}</ul></section>\n`;
}

/**
 * Email first, password second, on one page (contract §10: the login page asks for the email
 * first): an email whose domain signs in through its organization's IdP goes there and its
 * password field is never read; any other needs the password. The password field is therefore
 * not `required` in the markup; the server asks for it when it is missing.
 */
export function renderLoginPage(view: LoginPageView): string {
  const hasError = view.error !== undefined;
  const invalid = hasError ? ' aria-invalid="true" aria-describedby="form-error"' : '';
  // Focus lands where the user types next: the password when the email is already filled in.
  const focusEmail = view.email === undefined ? ' autofocus' : '';
  const focusPassword = view.email === undefined ? '' : ' autofocus';
  const hidden = [...view.hidden, [view.csrfField, view.csrfToken] as const]
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const client = escapeHtml(view.clientName);
  const body = `<h1 id="title">Sign in</h1>
<p class="lead">to continue to <strong>${client}</strong></p>
${scopeList(view.scopes)}${hasError ? `<div class="alert" id="form-error" role="alert">${escapeHtml(view.error!)}</div>` : ''}
<form method="post" action="/oauth/authorize" aria-labelledby="title">
${hidden}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" inputmode="email" autocapitalize="none" spellcheck="false" required maxlength="320"${view.email === undefined ? '' : ` value="${escapeHtml(view.email)}"`}${invalid}${focusEmail}>
<p class="hint" id="sso-hint">Work account with single sign-on? Enter your email and choose Sign in: you continue at your organization’s sign-in page.</p>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"${invalid}${focusPassword}>
<button type="submit">Sign in</button>
</form>
<p class="note">After you sign in, ${client} receives access to your SEI account${view.scopes.length > 0 ? ' with the access listed above' : ''} and you return to ${escapeHtml(view.redirectHost)}.</p>`;
  return htmlDocument({ title: `Sign in to ${view.clientName} – SEI`, body });
}
