import { AdminError } from '../common/admin-error.ts';

/**
 * A JSON request body, checked before anything reads it: an object, with no field outside
 * `allowed` (an unknown field is refused, not ignored: a typo must not pass silently).
 * Each getter validates one field's type and names the field when it refuses.
 */
export class JsonInput {
  private readonly body: Record<string, unknown>;

  constructor(body: unknown, allowed: readonly string[]) {
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new AdminError('the body must be a JSON object');
    }
    const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
    if (unknown.length > 0)
      throw new AdminError(`unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`);
    this.body = body as Record<string, unknown>;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.body, name);
  }

  string(name: string): string {
    const value = this.body[name];
    if (typeof value !== 'string') throw new AdminError(`${name} is required and must be a string`);
    return value;
  }

  optString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : undefined;
  }

  /** A string, or null to clear it. */
  optNullableString(name: string): string | null | undefined {
    if (!this.has(name)) return undefined;
    return this.body[name] === null ? null : this.string(name);
  }

  optBoolean(name: string): boolean | undefined {
    if (!this.has(name)) return undefined;
    const value = this.body[name];
    if (typeof value !== 'boolean') throw new AdminError(`${name} must be true or false`);
    return value;
  }

  optInteger(name: string): number | undefined {
    if (!this.has(name)) return undefined;
    const value = this.body[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new AdminError(`${name} must be a whole number`);
    return value;
  }

  /** A whole number, or null to clear it. */
  optNullableInteger(name: string): number | null | undefined {
    if (!this.has(name)) return undefined;
    return this.body[name] === null ? null : this.optInteger(name);
  }

  optStringArray(name: string): string[] | undefined {
    if (!this.has(name)) return undefined;
    const value = this.body[name];
    if (!Array.isArray(value) || value.length > 100 || !value.every((v) => typeof v === 'string')) {
      throw new AdminError(`${name} must be an array of strings`);
    }
    return value as string[];
  }
}
