import type { SqlExecutor } from '../sql-driver.ts';
import { type SigningKeyRecord, type SigningKeyStore, StoreConflictError } from '../store.ts';
import { isUniqueViolation, num, numOrNull, type Row, str } from './rows.ts';

function toSigningKey(r: Row): SigningKeyRecord {
  return {
    kid: str(r.kid!),
    alg: str(r.alg!),
    publicJwk: str(r.public_jwk!),
    privateJwkSealed: str(r.private_jwk_sealed!),
    createdAt: num(r.created_at!),
    activatesAt: num(r.activates_at!),
    retiredAt: numOrNull(r.retired_at ?? null),
  };
}

export class SqlSigningKeyStore implements SigningKeyStore {
  private readonly db: SqlExecutor;

  constructor(db: SqlExecutor) {
    this.db = db;
  }

  async create(key: SigningKeyRecord): Promise<void> {
    try {
      await this.db.run(
        'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_sealed, created_at, activates_at, retired_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [key.kid, key.alg, key.publicJwk, key.privateJwkSealed, key.createdAt, key.activatesAt, key.retiredAt],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError(`a signing key with kid ${key.kid} already exists`);
      throw error;
    }
  }

  async list(): Promise<SigningKeyRecord[]> {
    return (await this.db.all<Row>('SELECT * FROM signing_keys ORDER BY activates_at, created_at, kid')).map(toSigningKey);
  }

  async retire(kid: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL', [now, kid]);
    return changes > 0;
  }
}
