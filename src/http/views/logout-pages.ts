import { escapeHtml, htmlDocument } from './html.ts';

/**
 * The pages of RP-initiated logout: the question asked when the request does not prove which
 * application sent it (no ID token hint), and the answer when there is nowhere to go back to.
 */
export interface LogoutConfirmView {
  /** the application that asked, when it named itself */
  clientName: string | undefined;
  /** the user signed in in this browser */
  email: string;
  /** the logout parameters, carried to the POST, which checks them again */
  hidden: ReadonlyArray<readonly [string, string]>;
}

export function renderLogoutConfirmPage(view: LogoutConfirmView): string {
  const hidden = view.hidden
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const from = view.clientName === undefined ? '' : ` <strong>${escapeHtml(view.clientName)}</strong> asks you to sign out.`;
  const body = `<h1 id="title">Sign out?</h1>
<p class="lead">You are signed in as <strong>${escapeHtml(view.email)}</strong>.${from}</p>
<form method="post" action="/oauth/logout" aria-labelledby="title">
${hidden}
<button type="submit">Sign out</button>
</form>
<p class="note">Signing out ends your SEI sign-in in this browser and in every application you signed in to with it. If you did not ask to sign out, close this page.</p>`;
  return htmlDocument({ title: 'Sign out – SEI', body });
}

export function renderSignedOutPage(): string {
  const body = `<h1>You are signed out</h1>
<p class="lead">Your SEI sign-in in this browser has ended, and with it the applications you signed in to through it.</p>
<p class="note">You can close this page.</p>`;
  return htmlDocument({ title: 'Signed out – SEI', body });
}
