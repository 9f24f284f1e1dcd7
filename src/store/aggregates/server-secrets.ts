/** Random secrets the server makes for itself and shares across instances (e.g. the CSRF MAC key). */

export interface ServerSecretStore {
  /** Stores `value` under `name` unless a secret of that name exists; true when this call stored it. */
  create(name: string, value: string, now: number): Promise<boolean>;
  find(name: string): Promise<string | undefined>;
}
