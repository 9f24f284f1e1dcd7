import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/**
 * The shell of every HTML page this server renders (login page, authorize error page): escaping,
 * one inline stylesheet allowed by its hash, and the security headers. No scripts, no external
 * assets, so the Content-Security-Policy can forbid everything else.
 */

/** Escapes text for element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
:root { color-scheme: light; --ink: #1b2430; --muted: #556070; --line: #c5ccd6; --accent: #0b5cad; --accent-ink: #ffffff; --bad: #a4161a; --bad-bg: #fdecec; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center; padding: 24px 16px;
  background: #eef1f5; color: var(--ink); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { width: 100%; max-width: 400px; background: #fff; border: 1px solid #dde2e8; border-radius: 12px; padding: 32px 28px;
  box-shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 8px 24px rgba(16, 24, 40, .06); }
.brand { margin: 0 0 20px; font-size: 14px; font-weight: 600; letter-spacing: .04em; text-transform: uppercase; color: var(--muted); }
h1 { margin: 0 0 4px; font-size: 24px; line-height: 1.25; }
.lead { margin: 0 0 24px; color: var(--muted); }
.lead strong { color: var(--ink); overflow-wrap: anywhere; }
.alert { margin: 0 0 20px; padding: 12px 14px; border: 1px solid var(--bad); border-left-width: 4px; border-radius: 6px; background: var(--bad-bg); color: var(--bad); }
h1 + .alert { margin-top: 16px; }
label { display: block; margin: 0 0 6px; font-weight: 600; }
input[type=email], input[type=password] { display: block; width: 100%; margin: 0 0 18px; padding: 10px 12px; font: inherit; color: inherit;
  border: 1px solid var(--line); border-radius: 6px; background: #fff; }
input[aria-invalid=true] { border-color: var(--bad); }
input:focus-visible, button:focus-visible { outline: 3px solid #7fb1e6; outline-offset: 1px; border-color: var(--accent); }
button { display: block; width: 100%; margin: 6px 0 0; padding: 11px 16px; font: inherit; font-weight: 600; color: var(--accent-ink);
  background: var(--accent); border: 1px solid var(--accent); border-radius: 6px; cursor: pointer; }
button:hover { background: #094c8f; }
.scopes { margin: 0 0 20px; padding: 10px 14px; border: 1px solid var(--line); border-radius: 6px; }
.scopes h2 { margin: 0 0 6px; font-size: 14px; font-weight: 600; }
.scopes ul { margin: 0; padding-left: 20px; font-size: 14px; }
.note { margin: 20px 0 0; font-size: 14px; color: var(--muted); overflow-wrap: anywhere; }
.hint { margin: -12px 0 18px; font-size: 14px; color: var(--muted); }
.code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-weight: 600; color: var(--ink); overflow-wrap: anywhere; }
a.button { display: block; padding: 11px 16px; text-align: center; font-weight: 600; color: var(--accent-ink); background: var(--accent); border-radius: 6px; text-decoration: none; }
`;

/** CSP allows exactly this stylesheet, by hash, instead of 'unsafe-inline'. */
const STYLE_SOURCE = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

/** `head`: extra markup for the head, already escaped (the SSO hand-off's meta refresh). */
export function htmlDocument(page: { title: string; body: string; head?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
${page.head ?? ''}<style>${STYLE}</style>
</head>
<body>
<main>
<p class="brand">SEI Platform</p>
${page.body}
</main>
</body>
</html>
`;
}

/**
 * The CSP source that lets a form submission end on the client's redirect URI: Chromium applies
 * form-action to the redirects that follow a form POST, so 'self' alone would block the 303 to the
 * client. Only a verified, registered URI is ever passed here.
 */
export function formActionSource(redirectUri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return undefined;
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') return url.origin;
  // Native-app schemes (RFC 8252 §7.1) become a scheme-source; anything odd is left out.
  return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? url.protocol : undefined;
}

/** Sends an HTML page with the headers every page of ours carries. */
export function sendHtml(
  reply: FastifyReply,
  status: number,
  html: string,
  options: { formAction?: readonly string[] } = {},
): FastifyReply {
  const formAction = ["'self'", ...(options.formAction ?? [])].join(' ');
  return (
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header(
        'content-security-policy',
        `default-src 'none'; style-src ${STYLE_SOURCE}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
      )
      // For browsers without CSP frame-ancestors: the login page must never be framed (clickjacking).
      .header('x-frame-options', 'DENY')
      .header('cache-control', 'no-store')
      .send(html)
  );
}
