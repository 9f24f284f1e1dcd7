import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The console's bundle, built by scripts/build-console.js into dist/console-ui/ (at npm install
 * and npm run build): content-hashed file names, each with gzip and brotli copies made at build
 * time, so serving costs a lookup. The path is the same from src/http/console/ (tests under tsx)
 * and dist/http/console/ (the built server): three levels up is the package root either way.
 */
export const BUNDLE_DIR = fileURLToPath(new URL('../../../dist/console-ui/', import.meta.url));

export interface BundleManifest {
  /** the entry script and stylesheet, as served names */
  script: string;
  style: string;
  /** every served name → its content type */
  files: Record<string, string>;
}

export interface BundleFile {
  type: string;
  identity: Buffer;
  gzip?: Buffer;
  br?: Buffer;
}

export class ConsoleBundle {
  private readonly dir: string;
  private loaded: { manifest: BundleManifest; files: Map<string, BundleFile> } | undefined;

  constructor(dir: string = BUNDLE_DIR) {
    this.dir = dir;
  }

  /** The manifest, or undefined when the bundle was never built. Read once, then kept in memory. */
  manifest(): BundleManifest | undefined {
    return this.load()?.manifest;
  }

  file(name: string): BundleFile | undefined {
    return this.load()?.files.get(name);
  }

  private load(): { manifest: BundleManifest; files: Map<string, BundleFile> } | undefined {
    if (this.loaded) return this.loaded;
    const manifestPath = `${this.dir}manifest.json`;
    if (!existsSync(manifestPath)) return undefined;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BundleManifest;
    const files = new Map<string, BundleFile>();
    for (const [name, type] of Object.entries(manifest.files)) {
      const optional = (suffix: string) =>
        existsSync(`${this.dir}${name}${suffix}`) ? readFileSync(`${this.dir}${name}${suffix}`) : undefined;
      files.set(name, { type, identity: readFileSync(`${this.dir}${name}`), gzip: optional('.gz'), br: optional('.br') });
    }
    this.loaded = { manifest, files };
    return this.loaded;
  }
}

/** The best encoding the client accepts among those built (brotli, then gzip). */
export function pickEncoding(file: BundleFile, acceptEncoding: string | undefined): 'br' | 'gzip' | undefined {
  const accepted = new Set(
    (acceptEncoding ?? '')
      .split(',')
      .map((part) => part.trim().split(';'))
      .filter(([, q]) => q === undefined || !/^q=0(\.0*)?$/.test(q.trim()))
      .map(([name]) => name!.trim().toLowerCase()),
  );
  if (file.br && accepted.has('br')) return 'br';
  if (file.gzip && accepted.has('gzip')) return 'gzip';
  return undefined;
}
