import { useState } from 'preact/hooks';
import type { ApiResult } from '../api.ts';
import { type PlacedErrors, placeErrors } from '../problem.ts';

/**
 * One form description drives the fields, the browser's own validation (required, type, min)
 * and the server's errors, each shown next to its field (aria-describedby, aria-invalid).
 */
export interface FieldDef {
  name: string;
  label: string;
  type?: 'text' | 'email' | 'password' | 'number' | 'url' | 'checkbox' | 'select' | 'lines' | 'words' | 'textarea' | 'file' | 'datetime';
  options?: readonly string[];
  required?: boolean;
  hint?: string;
  /** file inputs: what the chosen file's text fills */
  accept?: string;
  min?: number;
}

export type Values = Record<string, unknown>;

/** Form values → the JSON body: empty optional fields are left out, lists split, numbers parsed. */
export function toBody(fields: readonly FieldDef[], values: Values, initial?: Values): Values {
  const body: Values = {};
  for (const field of fields) {
    const value = values[field.name];
    let out: unknown;
    switch (field.type) {
      case 'checkbox':
        out = Boolean(value);
        break;
      case 'number':
        out = value === '' || value === undefined || value === null ? null : Number(value);
        break;
      case 'lines':
      case 'words': {
        const text = Array.isArray(value) ? value.join('\n') : String(value ?? '');
        out = text
          .split(field.type === 'lines' ? /[\n]+/ : /[\s,]+/)
          .map((part) => part.trim())
          .filter(Boolean);
        break;
      }
      case 'datetime':
        out = value ? new Date(String(value)).toISOString() : undefined;
        break;
      default:
        out = value === '' || value === undefined ? undefined : value;
    }
    if (initial) {
      // An edit sends only what changed (PATCH).
      if (JSON.stringify(out) !== JSON.stringify(normalize(field, initial[field.name]))) body[field.name] = out;
    } else if (out !== undefined && !(out === null && !field.required) && !(Array.isArray(out) && out.length === 0 && !field.required)) {
      body[field.name] = out;
    }
  }
  return body;
}

function normalize(field: FieldDef, value: unknown): unknown {
  if (field.type === 'checkbox') return Boolean(value);
  if (field.type === 'number') return value === undefined || value === null || value === '' ? null : Number(value);
  if (field.type === 'lines' || field.type === 'words') return Array.isArray(value) ? value : [];
  return value === null || value === '' ? undefined : value;
}

export function initialValues(fields: readonly FieldDef[], item?: Values): Values {
  const values: Values = {};
  for (const field of fields) {
    const value = item?.[field.name];
    if (field.type === 'lines') values[field.name] = Array.isArray(value) ? value.join('\n') : '';
    else if (field.type === 'words') values[field.name] = Array.isArray(value) ? value.join(' ') : '';
    else if (field.type === 'checkbox') values[field.name] = Boolean(value);
    else values[field.name] = value === undefined || value === null ? '' : String(value);
  }
  return values;
}

export function Form(props: {
  id: string;
  title?: string;
  fields: readonly FieldDef[];
  initial?: Values;
  submitLabel: string;
  /** sends the body; the result's problem is placed next to the fields */
  onSubmit: (values: Values) => Promise<ApiResult<unknown>>;
  onDone?: (data: unknown) => void;
  onCancel?: () => void;
  danger?: boolean;
}) {
  const [values, setValues] = useState<Values>(() => initialValues(props.fields, props.initial));
  const [errors, setErrors] = useState<PlacedErrors>({ fields: {} });
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: unknown) => setValues((old) => ({ ...old, [name]: value }));

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const result = await props.onSubmit(values);
    setBusy(false);
    if (result.ok) {
      setErrors({ fields: {} });
      props.onDone?.(result.data);
    } else {
      setErrors(
        placeErrors(
          result.problem,
          props.fields.map((f) => f.name),
        ),
      );
    }
  };

  return (
    <form class="form" id={props.id} onSubmit={submit} noValidate={false} aria-label={props.title ?? props.submitLabel}>
      {props.title && <h3>{props.title}</h3>}
      {errors.form && (
        <div class="alert" role="alert">
          {errors.form}
        </div>
      )}
      {props.fields.map((field) => (
        <FieldInput
          key={field.name}
          formId={props.id}
          field={field}
          value={values[field.name]}
          error={errors.fields[field.name]}
          onChange={set}
        />
      ))}
      <div class="actions">
        <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={busy}>
          {busy ? 'Working…' : props.submitLabel}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function FieldInput(props: {
  formId: string;
  field: FieldDef;
  value: unknown;
  error?: string;
  onChange: (name: string, value: unknown) => void;
}) {
  const { field, error } = props;
  const id = `${props.formId}-${field.name}`;
  const describedBy = [error ? `${id}-error` : '', field.hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  const common = { id, name: field.name, 'aria-invalid': error ? ('true' as const) : undefined, 'aria-describedby': describedBy };
  const text = String(props.value ?? '');
  let input;
  switch (field.type) {
    case 'checkbox':
      return (
        <div class="field check">
          <input
            {...common}
            type="checkbox"
            checked={Boolean(props.value)}
            onChange={(e) => props.onChange(field.name, (e.currentTarget as HTMLInputElement).checked)}
          />
          <label for={id}>{field.label}</label>
          {field.hint && (
            <p class="hint" id={`${id}-hint`}>
              {field.hint}
            </p>
          )}
          {error && (
            <p class="field-error" id={`${id}-error`}>
              {error}
            </p>
          )}
        </div>
      );
    case 'select':
      input = (
        <select
          {...common}
          required={field.required}
          value={text}
          onChange={(e) => props.onChange(field.name, (e.currentTarget as HTMLSelectElement).value)}
        >
          {!field.required && <option value="">—</option>}
          {field.options?.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      );
      break;
    case 'lines':
    case 'textarea':
      input = (
        <textarea
          {...common}
          required={field.required}
          rows={field.type === 'lines' ? 3 : 6}
          value={text}
          onInput={(e) => props.onChange(field.name, (e.currentTarget as HTMLTextAreaElement).value)}
        />
      );
      break;
    case 'file':
      input = (
        <input
          {...common}
          type="file"
          accept={field.accept}
          required={field.required}
          onChange={async (e) => {
            const file = (e.currentTarget as HTMLInputElement).files?.[0];
            props.onChange(field.name, file ? await file.text() : '');
          }}
        />
      );
      break;
    default:
      input = (
        <input
          {...common}
          type={(field.type === 'datetime' ? 'datetime-local' : field.type === 'words' ? 'text' : (field.type ?? 'text')) as 'text'}
          required={field.required}
          min={field.min}
          autoComplete={field.type === 'password' ? 'new-password' : 'off'}
          value={text}
          onInput={(e) => props.onChange(field.name, (e.currentTarget as HTMLInputElement).value)}
        />
      );
  }
  return (
    <div class="field">
      <label for={id}>
        {field.label}
        {field.required && <span aria-hidden="true"> *</span>}
      </label>
      {input}
      {field.hint && (
        <p class="hint" id={`${id}-hint`}>
          {field.hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
