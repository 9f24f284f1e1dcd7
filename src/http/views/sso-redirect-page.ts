import { escapeHtml, htmlDocument } from './html.ts';

/**
 * The hand-off to the organization's IdP after the login form. Not a 303 from the form POST: the
 * login page's CSP `form-action` also governs the redirects that follow its submission
 * (Chromium), and the IdP's origin is not known when the page is rendered. A meta refresh is a new
 * navigation outside form-action, needs no script, and the link covers browsers that ignore it.
 */
export function renderSsoRedirectPage(view: { url: string }): string {
  const url = escapeHtml(view.url);
  const body = `<h1 id="title">Continue to your organization</h1>
<p class="lead">Your organization signs you in. Continuing to its sign-in page\u2026</p>
<a class="button" href="${url}">Continue</a>`;
  return htmlDocument({
    title: 'Continue to your organization \u2013 SEI',
    head: `<meta http-equiv="refresh" content="0;url=${url}">\n`,
    body,
  });
}
