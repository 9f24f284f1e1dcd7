#!/usr/bin/env node
// Bundles the admin console (web/console/, Preact + TSX) into dist/console-ui/ with esbuild: one
// script and one stylesheet, minified, content-hashed names (served with a year's caching), each
// with gzip and brotli copies made here so the server only picks one. Run by scripts/build.js.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../', import.meta.url));
const outdir = `${root}dist/console-ui/`;

export async function buildConsole() {
  const esbuild = await import('esbuild');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { console: `${root}web/console/main.tsx` },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const types = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
  const files = {};
  let script;
  let style;
  for (const path of Object.keys(result.metafile.outputs)) {
    const name = basename(path);
    const ext = name.slice(name.lastIndexOf('.'));
    if (!(ext in types)) continue;
    files[name] = types[ext];
    if (ext === '.js') script = name;
    else style = name;
    const body = readFileSync(`${outdir}${name}`);
    writeFileSync(`${outdir}${name}.gz`, gzipSync(body, { level: 9 }));
    writeFileSync(`${outdir}${name}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  }
  if (!script || !style) throw new Error('the console bundle lacks its script or stylesheet');
  writeFileSync(`${outdir}manifest.json`, `${JSON.stringify({ script, style, files }, null, 2)}\n`);
  return { script, style };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildConsole();
  console.log(`sei-auth build: admin console → dist/console-ui/ (${built.script}, ${built.style})`);
}
