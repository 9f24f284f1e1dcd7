import { escapeHtml, htmlDocument } from './html.ts';

/**
 * What a person sees when the answer of their organization's IdP is refused at the ACS. It never
 * says why (the reason could help an attacker tune a forged response, and it means nothing to
 * the person): it gives the support code under which the reason sits in the security event log.
 */
export function renderSsoRefusalPage(view: { supportCode: string }): string {
  const body = `<h1>Sign-in through your organization did not work</h1>
<div class="alert" role="alert">We could not accept the answer from your organization\u2019s sign-in service.</div>
<p>Go back to the application you came from and sign in again.</p>
<p class="note">If this keeps happening, give your administrator this support code: <span class="code">${escapeHtml(view.supportCode)}</span></p>`;
  return htmlDocument({ title: 'Sign-in did not work \u2013 SEI', body });
}
