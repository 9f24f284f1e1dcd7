import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { type ApiResult, api, type Item } from '../api.ts';
import { ConfirmDialog } from './confirm.tsx';
import { type Column, DataList, show } from './data-list.tsx';
import { type FieldDef, Form, toBody, type Values } from './form.tsx';
import { SecretOnce } from './secret-once.tsx';

/** An action on one item: a plain call, a call after confirmation, or a small form. */
export interface ActionDef {
  label: string;
  danger?: boolean;
  /** the confirmation's message; destructive actions always have one */
  confirm?: (item: Item) => string;
  form?: readonly FieldDef[];
  run: (item: Item, values: Values) => Promise<ApiResult<unknown>>;
  /** the answer carries a secret to show once */
  secret?: boolean;
  visible?: (item: Item) => boolean;
  /** the item is gone afterwards */
  removes?: boolean;
}

export interface CollectionConfig {
  collection: string;
  /** the field holding an item's id (clients: client_id) */
  idKey?: string;
  title: string;
  singular: string;
  intro?: ComponentChildren;
  columns: readonly Column[];
  filters?: readonly FieldDef[];
  create?: readonly FieldDef[];
  /** fields the create form sends as they are, beside those from `create` (e.g. a file's text) */
  createBody?: (values: Values) => Values;
  edit?: readonly FieldDef[];
  actions?: readonly ActionDef[];
  deleteMessage?: (item: Item) => string;
  /** initial filter values (from the page's query string) */
  initialFilters?: Record<string, string>;
  details?: (item: Item) => ComponentChildren;
  /** no edit, no delete (the event log, keys) */
  readOnly?: boolean;
  /** the delete action's label, when it is not "Delete <singular>" (sessions are ended) */
  deleteLabel?: string;
  /** the create button's label, when it is not "New <singular>" */
  createLabel?: string;
}

type Panel = { kind: 'none' } | { kind: 'create' } | { kind: 'item'; item: Item; action?: ActionDef };

/** One admin API collection as a page: filters, the paginated list, create, edit, actions, delete. */
export function CollectionPage(props: { config: CollectionConfig }) {
  const c = props.config;
  const [filters, setFilters] = useState<Record<string, string | undefined>>(c.initialFilters ?? {});
  const [version, setVersion] = useState(0);
  const [panel, setPanel] = useState<Panel>({ kind: 'none' });
  const [confirming, setConfirming] = useState<{ action: ActionDef; item: Item } | undefined>();
  const [secret, setSecret] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const reload = () => setVersion((v) => v + 1);
  const idOf = (item: Item | undefined): string | undefined => (item ? (item[c.idKey ?? 'id'] as string | undefined) : undefined);

  const deleteAction: ActionDef = {
    label: c.deleteLabel ?? `Delete ${c.singular}`,
    danger: true,
    removes: true,
    confirm: c.deleteMessage ?? ((item) => `Delete ${c.singular} ${item.name ?? item.email ?? idOf(item)}? This cannot be undone.`),
    run: (item) => api('DELETE', `${c.collection}/${idOf(item)}`),
  };
  const actions = c.readOnly ? (c.actions ?? []) : [...(c.actions ?? []), deleteAction];

  const finish = (action: ActionDef, item: Item, result: ApiResult<unknown>) => {
    if (!result.ok) {
      setFailure(result.problem.detail ?? result.problem.title ?? 'The request failed.');
      return;
    }
    setFailure(undefined);
    setNotice(`${action.label}: done.`);
    const data = result.data as Values | undefined;
    if (action.secret && typeof data?.client_secret === 'string') setSecret(data.client_secret);
    if (action.removes) setPanel({ kind: 'none' });
    else if (data && typeof data === 'object' && idOf(data as Item) === idOf(item)) setPanel({ kind: 'item', item: data as Item });
    else setPanel({ kind: 'item', item });
    reload();
  };

  const start = async (action: ActionDef, item: Item) => {
    setNotice(undefined);
    setFailure(undefined);
    if (action.form) setPanel({ kind: 'item', item, action });
    else if (action.confirm) setConfirming({ action, item });
    else finish(action, item, await action.run(item, {}));
  };

  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">{c.title}</h1>
        {c.create && (
          <button type="button" class="primary" onClick={() => setPanel({ kind: 'create' })}>
            {c.createLabel ?? `New ${c.singular}`}
          </button>
        )}
      </header>
      {c.intro && <p class="muted">{c.intro}</p>}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {secret && <SecretOnce label="New client secret" secret={secret} onClose={() => setSecret(undefined)} />}
      {c.filters && (
        <FilterBar
          fields={c.filters}
          values={filters}
          onApply={(values) => {
            setFilters(values);
            const search = new URLSearchParams();
            for (const [k, v] of Object.entries(values)) if (v) search.set(k, v);
            history.replaceState(null, '', `${location.pathname}${search.toString() ? `?${search}` : ''}`);
          }}
        />
      )}
      <div class="split">
        <DataList
          collection={c.collection}
          columns={c.columns}
          filters={filters}
          version={version}
          idKey={c.idKey}
          selectedId={panel.kind === 'item' ? idOf(panel.item) : undefined}
          onSelect={
            c.readOnly && !c.actions
              ? undefined
              : (item) => {
                  setNotice(undefined);
                  setFailure(undefined);
                  setPanel({ kind: 'item', item });
                }
          }
        />
        {panel.kind === 'create' && c.create && (
          <aside class="panel" aria-label={`New ${c.singular}`}>
            <Form
              id={`create-${c.collection}`}
              title={`New ${c.singular}`}
              fields={c.create}
              submitLabel={`Create ${c.singular}`}
              onSubmit={(values) => api('POST', c.collection, { ...toBody(c.create ?? [], values), ...(c.createBody?.(values) ?? {}) })}
              onDone={(data) => {
                const created = data as Values;
                setNotice(`Created ${c.singular} ${idOf(created as Item) ?? ''}.`);
                if (typeof created?.client_secret === 'string') setSecret(created.client_secret);
                setPanel(idOf(created as Item) ? { kind: 'item', item: created as Item } : { kind: 'none' });
                reload();
              }}
              onCancel={() => setPanel({ kind: 'none' })}
            />
          </aside>
        )}
        {panel.kind === 'item' && (
          <aside class="panel" aria-label={`${c.singular} ${idOf(panel.item)}`}>
            <div class="panel-head">
              <h2>
                {c.singular} <code>{String(idOf(panel.item))}</code>
              </h2>
              <button type="button" class="link" onClick={() => setPanel({ kind: 'none' })} aria-label="Close">
                ✕
              </button>
            </div>
            {c.details?.(panel.item)}
            {failure && (
              <div class="alert" role="alert">
                {failure}
              </div>
            )}
            {panel.action?.form ? (
              <Form
                key={`action-${panel.action.label}`}
                id={`action-${c.collection}`}
                title={panel.action.label}
                fields={panel.action.form}
                submitLabel={panel.action.label}
                danger={panel.action.danger}
                onSubmit={(values) => (panel.action as ActionDef).run(panel.item, values)}
                onDone={(data) => finish(panel.action as ActionDef, panel.item, { ok: true, status: 200, data, etag: null })}
                onCancel={() => setPanel({ kind: 'item', item: panel.item })}
              />
            ) : (
              <>
                {c.edit && (
                  <Form
                    key={`edit-${idOf(panel.item)}-${version}`}
                    id={`edit-${c.collection}`}
                    title={`Edit ${c.singular}`}
                    fields={c.edit}
                    initial={panel.item}
                    submitLabel="Save changes"
                    onSubmit={(values) => api('PATCH', `${c.collection}/${idOf(panel.item)}`, toBody(c.edit ?? [], values, panel.item))}
                    onDone={(data) => {
                      setNotice(`Saved ${c.singular} ${idOf(panel.item)}.`);
                      setPanel({ kind: 'item', item: (data as Item) ?? panel.item });
                      reload();
                    }}
                  />
                )}
                <div class="item-actions">
                  {actions
                    .filter((a) => a.visible?.(panel.item) ?? true)
                    .map((action) => (
                      <button
                        key={action.label}
                        type="button"
                        class={action.danger ? 'danger' : undefined}
                        onClick={() => start(action, panel.item)}
                      >
                        {action.label}
                      </button>
                    ))}
                </div>
              </>
            )}
          </aside>
        )}
      </div>
      {confirming && (
        <ConfirmDialog
          title={`${confirming.action.label}?`}
          message={confirming.action.confirm?.(confirming.item) ?? ''}
          confirmLabel={confirming.action.label}
          onCancel={() => setConfirming(undefined)}
          onConfirm={async () => {
            const { action, item } = confirming;
            setConfirming(undefined);
            finish(action, item, await action.run(item, {}));
          }}
        />
      )}
    </section>
  );
}

function FilterBar(props: {
  fields: readonly FieldDef[];
  values: Record<string, string | undefined>;
  onApply: (values: Record<string, string | undefined>) => void;
}) {
  const [values, setValues] = useState(props.values);
  return (
    <form
      class="filters"
      aria-label="Filters"
      onSubmit={(e) => {
        e.preventDefault();
        const out: Record<string, string | undefined> = {};
        for (const field of props.fields) {
          const value = values[field.name];
          out[field.name] = value && field.type === 'datetime' ? new Date(value).toISOString() : value || undefined;
        }
        props.onApply(out);
      }}
    >
      {props.fields.map((field) => (
        <div class="field" key={field.name}>
          <label for={`filter-${field.name}`}>{field.label}</label>
          {field.options ? (
            <select
              id={`filter-${field.name}`}
              value={values[field.name] ?? ''}
              onChange={(e) => setValues({ ...values, [field.name]: (e.currentTarget as HTMLSelectElement).value })}
            >
              <option value="">any</option>
              {field.options.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          ) : (
            <input
              id={`filter-${field.name}`}
              // Preact types `type` per input kind; the union is chosen at run time.
              type={(field.type === 'datetime' ? 'datetime-local' : field.type === 'email' ? 'email' : 'text') as 'text'}
              value={field.type === 'datetime' && values[field.name] ? toLocalInput(values[field.name] ?? '') : (values[field.name] ?? '')}
              onInput={(e) => setValues({ ...values, [field.name]: (e.currentTarget as HTMLInputElement).value })}
            />
          )}
        </div>
      ))}
      <div class="actions">
        <button type="submit" class="primary">
          Apply filters
        </button>
      </div>
    </form>
  );
}

function toLocalInput(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return value;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

export { show };
