import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, session } from './api';

export interface Async<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

/** Runs `fn` when `deps` change (and on `reload`); the latest call wins. */
export function useAsync<T>(fn: () => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => mine === seq.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) =>
        mine === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Calls `fn` every `ms` while `on`. */
export function useInterval(fn: () => void, ms: number, on = true): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!on) return undefined;
    const t = setInterval(() => saved.current(), ms);
    return () => clearInterval(t);
  }, [ms, on]);
}

/** The API's code and message (and the field it names), as the user should see them. */
export function ErrorBox({ error }: { error: unknown }): JSX.Element | null {
  if (error === undefined || error === null) return null;
  if (error instanceof ApiError) {
    return (
      <div class="error" role="alert" data-code={error.code}>
        <strong class="code">{error.code}</strong> {error.message}
        {error.field !== undefined ? <span class="field"> (field: {error.field})</span> : null}
      </div>
    );
  }
  return (
    <div class="error" role="alert">
      {error instanceof Error
        ? error.message
        : typeof error === 'string'
          ? error
          : JSON.stringify(error)}
    </div>
  );
}

export function Loading({ when }: { when: boolean }): JSX.Element | null {
  return when ? (
    <span class="loading" aria-busy="true">
      Loading…
    </span>
  ) : null;
}

export function Card(props: {
  title?: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  id?: string;
}): JSX.Element {
  return (
    <section class="card" id={props.id}>
      {props.title !== undefined || props.actions !== undefined ? (
        <header>
          {props.title !== undefined ? <h2>{props.title}</h2> : null}
          <div class="actions">{props.actions}</div>
        </header>
      ) : null}
      {props.children}
    </section>
  );
}

export interface Column<T> {
  readonly label: string;
  readonly cell: (row: T) => ComponentChildren;
  readonly num?: boolean;
}

export function Table<T>(props: {
  rows: readonly T[];
  columns: readonly Column<T>[];
  empty?: string;
  testid?: string;
  onRow?: (row: T) => void;
}): JSX.Element {
  if (props.rows.length === 0) return <p class="muted">{props.empty ?? 'Nothing yet.'}</p>;
  return (
    <table data-testid={props.testid}>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th class={c.num === true ? 'num' : undefined}>{c.label}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr
            class={props.onRow ? 'link' : undefined}
            onClick={props.onRow ? () => props.onRow?.(r) : undefined}
          >
            {props.columns.map((c) => (
              <td class={c.num === true ? 'num' : undefined}>{c.cell(r)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const nf = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
export const fmt = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : nf.format(n);
export const pct = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : `${(n * 100).toFixed(1)}%`;
export const when = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '–';

/** Masks an email or phone for a role that may not read PII (`a***@example.com`, `***1234`). */
export function maskPii(value: string): string {
  const at = value.indexOf('@');
  if (at > 0) return `${value[0]}***${value.slice(at)}`;
  const digits = value.replace(/\D/g, '');
  if (digits.length >= 7) return `***${digits.slice(-4)}`;
  return value;
}

/** Whether this session may see PII in clear (the admin may; the analyst sees it masked). */
export const piiAllowed = (): boolean => session()?.role === 'admin';

const PII_KEYS = /^(email|phone|mobile|name|first_?name|last_?name|address)$/i;

/** A copy of `v` with PII-looking keys and email/phone-looking strings masked, unless allowed. */
export function redact(v: unknown): unknown {
  if (piiAllowed()) return v;
  if (typeof v === 'string') return maskPii(v);
  if (Array.isArray(v)) return v.map(redact);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      out[k] = PII_KEYS.test(k) && typeof x === 'string' ? '•••' : redact(x);
    return out;
  }
  return v;
}

/** A button that runs `fn`, shows it running, and shows its error. */
export function Action(props: {
  label: string;
  run: () => Promise<unknown>;
  confirm?: string;
  kind?: 'primary' | 'danger';
  disabled?: boolean;
  testid?: string;
}): JSX.Element {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const click = async (): Promise<void> => {
    if (props.confirm !== undefined && !window.confirm(props.confirm)) return;
    setBusy(true);
    setError(undefined);
    try {
      await props.run();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button
        type="button"
        class={props.kind}
        disabled={busy || props.disabled === true}
        onClick={() => void click()}
        data-testid={props.testid}
      >
        {busy ? <span class="spinner" aria-busy="true" /> : null}
        {props.label}
      </button>
      <ErrorBox error={error} />
    </span>
  );
}

export function Field(props: {
  label: string;
  children: ComponentChildren;
  hint?: string;
}): JSX.Element {
  return (
    <label class="field-row">
      <span>{props.label}</span>
      {props.children}
      {props.hint !== undefined ? <small class="muted">{props.hint}</small> : null}
    </label>
  );
}

export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const DAY_MS = 86_400_000;

/** Navigates to `#/a/b`. */
export const go = (...parts: string[]): void => {
  location.hash = `#/${parts.map(encodeURIComponent).join('/')}`;
};

/** `text` with every email and phone-looking run masked, unless this session may read PII. */
export function maskText(text: string): string {
  if (piiAllowed()) return text;
  return text
    .replace(/[^\s"'<>@,;:]+@[^\s"'<>@,;:]+\.[A-Za-z]{2,}/g, (m) => maskPii(m))
    .replace(/\+?\d[\d ().-]{6,}\d/g, (m) => maskPii(m));
}

/** A from/to pair of date inputs (ISO days). */
export function DateRange(props: {
  from: string;
  to: string;
  onChange: (from: string, to: string) => void;
}): JSX.Element {
  return (
    <>
      <Field label="From">
        <input
          type="date"
          name="from"
          value={props.from}
          onInput={(e) => props.onChange(e.currentTarget.value, props.to)}
        />
      </Field>
      <Field label="To">
        <input
          type="date"
          name="to"
          value={props.to}
          onInput={(e) => props.onChange(props.from, e.currentTarget.value)}
        />
      </Field>
    </>
  );
}

/** The `?a=b` part of the route (`#/attribution?from=2026-05-01`), for links that open a page on given inputs. */
export function routeParams(): URLSearchParams {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : location.hash.slice(q + 1));
}

/** Puts a page's inputs in the route without navigating, so the link opens it on them again. */
export function setRouteParams(params: Record<string, string>): void {
  const base = location.hash.replace(/\?.*$/, '');
  history.replaceState(null, '', `${base}?${new URLSearchParams(params).toString()}`);
}
