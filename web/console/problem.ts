import type { Problem } from './api.ts';

/**
 * The server's error, placed next to the field it is about. The admin API may name the field
 * (`errors: [{field, detail}]`, `errors: {field: detail}` or `field`); otherwise its message
 * names the CLI option (`--redirect-url must …`), whose JSON name is the field (contract §9:
 * field names are the CLI's --json names). Anything unplaced is shown above the form.
 */
export interface PlacedErrors {
  fields: Record<string, string>;
  form?: string;
}

export function placeErrors(problem: Problem, fieldNames: readonly string[]): PlacedErrors {
  const fields: Record<string, string> = {};
  const known = (name: string | undefined): string | undefined => {
    if (!name) return undefined;
    const plain = name.replace(/^\/+/, '').replace(/^--/, '').replace(/-/g, '_');
    for (const candidate of [plain, `${plain}s`, plain.replace(/_id$/, ''), `${plain}_id`])
      if (fieldNames.includes(candidate)) return candidate;
    return undefined;
  };
  const detail = problem.detail ?? problem.title ?? 'The request failed.';
  const list = problem.errors;
  if (Array.isArray(list)) {
    for (const entry of list) {
      if (!entry || typeof entry !== 'object') continue;
      const e = entry as Record<string, unknown>;
      const name = known(String(e.field ?? e.name ?? e.pointer ?? ''));
      const message = String(e.detail ?? e.message ?? detail);
      if (name) fields[name] = message;
    }
  } else if (list && typeof list === 'object') {
    for (const [field, message] of Object.entries(list as Record<string, unknown>)) {
      const name = known(field);
      if (name) fields[name] = String(message);
    }
  }
  const single = known(problem.field);
  if (single && !fields[single]) fields[single] = detail;
  if (Object.keys(fields).length === 0) {
    // The field the message names first, by its JSON name or its CLI option ("--redirect-url …",
    // "the password must …"), compared as whole words.
    const text = ` ${detail.toLowerCase()} `;
    let best: { name: string; at: number } | undefined;
    for (const name of fieldNames) {
      for (const word of new Set([name, name.replace(/_/g, '-'), name.replace(/_/g, ' '), name.replace(/s$/, '').replace(/_/g, '-')])) {
        for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + 1)) {
          const before = text[at - 1] ?? ' ';
          const after = text[at + word.length] ?? ' ';
          if (/[a-z_]/.test(before) || /[a-z_]/.test(after)) continue;
          if (!best || at < best.at) best = { name, at };
          break;
        }
      }
    }
    if (best) fields[best.name] = detail;
  }
  return Object.keys(fields).length
    ? { fields, form: Object.values(fields).includes(detail) ? undefined : detail }
    : { fields, form: detail };
}
