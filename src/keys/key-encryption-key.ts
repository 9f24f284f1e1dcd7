import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The key-encryption key (KEK) that seals the private signing keys at rest (keys/key-sealing.ts).
 * KEY_ENCRYPTION_KEY when set. Otherwise, only for the embedded SQLite store: a key file beside
 * the database, made on first use — so that a fresh clone runs without setup, at the price that
 * whoever copies the folder gets both. PostgreSQL instances must share one KEK, so there it has
 * to be set. Resolved lazily: only what touches the keys (server start, `keys` commands) needs it.
 */

/** The KEK is missing, unreadable or wrong; the message is one line for the operator and never holds the key. */
export class KeyEncryptionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyEncryptionKeyError';
  }
}

export interface KeyEncryptionKey {
  key: Buffer;
  /** where it came from, for messages: "KEY_ENCRYPTION_KEY" or "the key file <path>" */
  source: string;
}

export const KEY_BYTES = 32;

/** The key file of an SQLite database file: its path plus this suffix. */
export const KEY_FILE_SUFFIX = '.key-encryption-key';

export function keyFilePath(databasePath: string): string {
  return `${resolve(databasePath)}${KEY_FILE_SUFFIX}`;
}

const HINT = 'set KEY_ENCRYPTION_KEY (base64 of 32 random bytes: openssl rand -base64 32)';

function parseKeyFile(path: string, text: string): Buffer {
  const value = text.trim();
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) throw new KeyEncryptionKeyError(`the key file ${path} does not hold a base64 key of ${KEY_BYTES} bytes`);
  return key;
}

/** Reads an existing key file, refusing one others may read. */
function readKeyFile(path: string): Buffer {
  const mode = statSync(path).mode & 0o777;
  // POSIX permissions only; Windows reports 0o666 for every file.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new KeyEncryptionKeyError(
      `the key file ${path} has mode 0${mode.toString(8)}, readable by others: chmod 600 it (and consider the key exposed)`,
    );
  }
  return parseKeyFile(path, readFileSync(path, 'utf8'));
}

/**
 * Creates the key file atomically: the key is written to a private temporary file (mode 0600,
 * O_EXCL) and linked into place, which fails if the name exists. So a process starting at the
 * same time reads either no file or a complete one, and exactly one key wins.
 * @returns whether this call created it
 */
function createKeyFile(path: string): boolean {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/**
 * The KEK for `databaseUrl`. `warn` is told (once per call) when a key file or an ephemeral key
 * is used, naming the file, since losing it loses the signing keys.
 * @throws KeyEncryptionKeyError when none can be had (PostgreSQL without KEY_ENCRYPTION_KEY, a bad key file)
 */
export function resolveKeyEncryptionKey(input: {
  configured: Buffer | undefined;
  databaseUrl: string;
  warn: (message: string, fields: Record<string, unknown>) => void;
}): KeyEncryptionKey {
  if (input.configured) return { key: input.configured, source: 'KEY_ENCRYPTION_KEY' };
  if (!input.databaseUrl.startsWith('sqlite:')) {
    throw new KeyEncryptionKeyError(`KEY_ENCRYPTION_KEY is not set: on PostgreSQL every instance must share it; ${HINT}`);
  }
  const databasePath = input.databaseUrl.slice('sqlite:'.length);
  if (databasePath === ':memory:') {
    // The keys vanish with the in-memory database, so an ephemeral KEK loses nothing more.
    input.warn('in-memory database: the signing keys are sealed with an ephemeral key-encryption key', {
      key_encryption_key: 'ephemeral',
    });
    return { key: randomBytes(KEY_BYTES), source: 'an ephemeral key-encryption key' };
  }
  const path = keyFilePath(databasePath);
  let created = false;
  let key: Buffer;
  try {
    try {
      key = readKeyFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      created = createKeyFile(path);
      key = readKeyFile(path);
    }
  } catch (error) {
    if (error instanceof KeyEncryptionKeyError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new KeyEncryptionKeyError(`cannot read or create the key file ${path} (${code}); ${HINT}`);
  }
  input.warn(
    `signing keys are sealed with the key file ${path}${created ? ' (created now)' : ''}: back it up with the database ` +
      '(without it the signing keys cannot be read), and set KEY_ENCRYPTION_KEY in production',
    { key_file: path, created },
  );
  return { key, source: `the key file ${path}` };
}
