import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Item, type Page, type Problem, query } from '../api.ts';

export interface Column {
  key: string;
  label: string;
  render?: (item: Item) => ComponentChildren;
}

/** Cursor pagination (contract §9: `?limit=&cursor=` → `next_cursor`, newest first): a stack of cursors for "Previous". */
export function DataList(props: {
  collection: string;
  columns: readonly Column[];
  filters: Record<string, string | undefined>;
  /** changes when the list must be read again (after a create, an edit, a delete) */
  version: number;
  onSelect?: (item: Item) => void;
  selectedId?: string;
  idKey?: string;
  pageSize?: number;
}) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  // The page with the request it answers: rows of another cursor or filter are never shown under this one's pager.
  const [loaded, setLoaded] = useState<{ key: string; page: Page<Item> } | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const filterKey = JSON.stringify(props.filters);
  // A new filter starts at the first page.
  useEffect(() => setCursors([undefined]), [filterKey, props.collection]);
  const cursor = cursors[cursors.length - 1];
  const requestKey = JSON.stringify([props.collection, filterKey, cursor ?? null, props.version]);
  useEffect(() => {
    let live = true;
    api<Page<Item>>('GET', `${props.collection}${query({ ...props.filters, limit: String(props.pageSize ?? 20), cursor })}`).then(
      (result) => {
        if (!live) return;
        if (result.ok) {
          setLoaded({ key: requestKey, page: result.data });
          setProblem(undefined);
        } else setProblem(result.problem);
      },
    );
    return () => {
      live = false;
    };
  }, [requestKey]);

  if (problem)
    return (
      <div class="alert" role="alert">
        {problem.detail ?? problem.title}
      </div>
    );
  const page = loaded?.key === requestKey ? loaded.page : undefined;
  if (!page) return <p class="muted">Loading…</p>;
  return (
    <div class="list">
      {page.items.length === 0 ? (
        <p class="muted empty">Nothing here yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              {props.columns.map((c) => (
                <th key={c.key} scope="col">
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {page.items.map((item, index) => (
              <tr
                key={String(item[props.idKey ?? 'id'] ?? index)}
                class={item[props.idKey ?? 'id'] !== undefined && item[props.idKey ?? 'id'] === props.selectedId ? 'selected' : undefined}
              >
                {props.columns.map((c, i) => (
                  <td key={c.key} data-label={c.label}>
                    {i === 0 && props.onSelect ? (
                      <button type="button" class="link" onClick={() => props.onSelect?.(item)}>
                        {c.render ? c.render(item) : show(item[c.key])}
                      </button>
                    ) : c.render ? (
                      c.render(item)
                    ) : (
                      show(item[c.key])
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span class="muted">Page {cursors.length}</span>
        <button type="button" disabled={!page.next_cursor} onClick={() => setCursors([...cursors, page.next_cursor ?? undefined])}>
          Older →
        </button>
      </nav>
    </div>
  );
}

/** A value for a cell: times readable, lists joined, nothing as a dash. */
export function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value))
    return value.length ? value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ') : '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return JSON.stringify(value);
  const text = String(value);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return text.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  return text;
}
