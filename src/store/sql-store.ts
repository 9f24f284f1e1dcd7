import { LATEST_SCHEMA_VERSION, migrate } from './migrations.ts';
import { SqlBrowserSessionStore } from './sql/browser-sessions-sql.ts';
import { SqlClientStore } from './sql/clients-sql.ts';
import { SqlCodeStore } from './sql/codes-sql.ts';
import { SqlConsoleSessionStore } from './sql/console-sessions-sql.ts';
import { SqlEventStore } from './sql/events-sql.ts';
import { SqlIdpStore } from './sql/idps-sql.ts';
import { SqlOrgStore } from './sql/orgs-sql.ts';
import { SqlReplayStore } from './sql/replay-sql.ts';
import type { Row } from './sql/rows.ts';
import { SqlSamlRequestStore } from './sql/saml-requests-sql.ts';
import { SqlServerSecretStore } from './sql/server-secrets-sql.ts';
import { SqlSessionStore } from './sql/sessions-sql.ts';
import { SqlSigningKeyStore } from './sql/signing-keys-sql.ts';
import { SqlThrottleStore } from './sql/throttle-sql.ts';
import { SqlTokenStore } from './sql/tokens-sql.ts';
import { SqlUserStore } from './sql/users-sql.ts';
import type { SqlDialect, SqlDriver, SqlExecutor } from './sql-driver.ts';
import type { Store, StoreOps } from './store.ts';

/** Runs fn with the aggregates of one transaction: a new one, or the one already running. */
type Atomic = <T>(fn: (tx: StoreOps) => Promise<T>) => Promise<T>;

/** The aggregates of a transaction of `driver`; inside it, what must be atomic runs in that same transaction. */
function transactionOps(tx: SqlExecutor, dialect: SqlDialect): SqlStoreOps {
  const ops: SqlStoreOps = new SqlStoreOps(tx, dialect, (fn) => fn(ops));
  return ops;
}

/** The aggregates over one executor: the pool, or one transaction (built once per transaction). */
class SqlStoreOps implements StoreOps {
  readonly orgs: SqlOrgStore;
  readonly users: SqlUserStore;
  readonly clients: SqlClientStore;
  readonly sessions: SqlSessionStore;
  readonly browserSessions: SqlBrowserSessionStore;
  readonly tokens: SqlTokenStore;
  readonly codes: SqlCodeStore;
  readonly idps: SqlIdpStore;
  readonly replay: SqlReplayStore;
  readonly samlRequests: SqlSamlRequestStore;
  readonly throttle: SqlThrottleStore;
  readonly events: SqlEventStore;
  readonly serverSecrets: SqlServerSecretStore;
  readonly consoleSessions: SqlConsoleSessionStore;
  readonly signingKeys: SqlSigningKeyStore;

  constructor(db: SqlExecutor, dialect: SqlDialect, atomic: Atomic) {
    this.orgs = new SqlOrgStore(db);
    this.users = new SqlUserStore(db, dialect);
    this.clients = new SqlClientStore(db);
    this.sessions = new SqlSessionStore(db);
    this.browserSessions = new SqlBrowserSessionStore(db);
    this.tokens = new SqlTokenStore(db, dialect, atomic);
    this.codes = new SqlCodeStore(db);
    this.idps = new SqlIdpStore(db);
    this.replay = new SqlReplayStore(db);
    this.samlRequests = new SqlSamlRequestStore(db);
    this.throttle = new SqlThrottleStore(db);
    this.events = new SqlEventStore(db);
    this.serverSecrets = new SqlServerSecretStore(db);
    this.consoleSessions = new SqlConsoleSessionStore(db);
    this.signingKeys = new SqlSigningKeyStore(db);
  }
}

/** The Store over a SQL driver: SQLite or PostgreSQL, one set of queries. */
export class SqlStore extends SqlStoreOps implements Store {
  readonly kind: Store['kind'];
  private readonly driver: SqlDriver;

  private constructor(driver: SqlDriver) {
    super(driver, driver.dialect, (fn) => driver.transaction((tx) => fn(transactionOps(tx, driver.dialect))));
    this.driver = driver;
    this.kind = driver.dialect;
  }

  /** Opens the store and brings its schema up to date (refusing a schema from the future). */
  static async open(driver: SqlDriver, now: number): Promise<SqlStore> {
    try {
      await driver.withMigrationLock((tx) => migrate(tx, driver.dialect, now));
    } catch (error) {
      await driver.close();
      throw error;
    }
    return new SqlStore(driver);
  }

  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    return this.driver.transaction((tx) => fn(transactionOps(tx, this.driver.dialect)));
  }

  async ping(): Promise<void> {
    const r = await this.driver.get<Row>('SELECT MAX(version) AS v FROM schema_migrations');
    if (Number(r?.v ?? 0) < LATEST_SCHEMA_VERSION) throw new Error('schema is not migrated');
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  walFramesWritten(): number | undefined {
    return this.driver.walFramesWritten?.();
  }
}
