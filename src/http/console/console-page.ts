import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../views/html.ts';
import type { BundleManifest } from './console-assets.ts';

/**
 * The console's one HTML page: it loads the bundle and nothing else. No inline script or style,
 * so the CSP allows only this origin's files (script-src 'self', style-src 'self').
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function renderConsolePage(manifest: BundleManifest): string {
  const style = escapeHtml(`/admin/assets/${manifest.style}`);
  const script = escapeHtml(`/admin/assets/${manifest.script}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sei-auth admin</title>
<link rel="stylesheet" href="${style}">
<script type="module" src="${script}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the admin console\u2026</p></div>
</body>
</html>
`;
}

/** The headers every console response carries (the page, its assets, its JSON). */
export function consoleHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', CONSOLE_CSP).header('x-frame-options', 'DENY');
}
