/**
 * The visual editor of the audience DSL (schemas/audiences): and/or groups,
 * not, and conditions with pickers drawn from the data. It edits the DSL's
 * JSON tree itself, so whatever it cannot draw (sequence, first_time, ...) is
 * kept and shown as JSON, and a definition round-trips unchanged.
 */
import type { JSX } from 'preact';
import { VALUE_OPS } from '@cdp/audiences/types';

export type Cond = Record<string, unknown>;

export interface Catalog {
  readonly events: readonly {
    event: string;
    type: string;
    count: number;
    properties: readonly string[];
  }[];
  readonly tags: readonly { name: string; valueType: string }[];
  readonly tagValues: (tag: string) => readonly string[];
  readonly audiences: readonly string[];
}

const OPS = VALUE_OPS;
const NUMBER_OPS = new Set(['gt', 'gte', 'lt', 'lte']);
const COUNT_OPS = ['gte', 'gt', 'eq', 'neq', 'lt', 'lte'];
const IDENTIFIER_TYPES = ['exists', 'email', 'phone', 'user_id', 'anonymous_id', 'device_id'];

/** A scalar of the tree as text ('' or `dflt` for anything else). */
const text = (v: unknown, dflt = ''): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : dflt;

const isNum = (s: string): boolean => s.trim() !== '' && Number.isFinite(Number(s));

/** The DSL value of what was typed for `op` (numbers for number ops, lists for in/not_in, a pair for between). */
export function parseValue(op: string, text: string, numeric: boolean): unknown {
  if (op === 'exists' || op === 'not_exists') return undefined;
  if (op === 'in' || op === 'not_in' || op === 'between') {
    const parts = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const nums = parts.every(isNum);
    return nums && (numeric || op === 'between') ? parts.map(Number) : parts;
  }
  if (NUMBER_OPS.has(op)) return isNum(text) ? Number(text) : text;
  return numeric && isNum(text) ? Number(text) : text;
}

export const showValue = (v: unknown): string =>
  Array.isArray(v) ? v.map((x) => text(x)).join(', ') : text(v);

/** A `{op, value}` with the value re-parsed for a new op or text. */
function test(op: string, text: string, numeric: boolean): { op: string; value?: unknown } {
  const value = parseValue(op, text, numeric);
  return value === undefined ? { op } : { op, value };
}

let listIds = 0;
function DataList({ id, values }: { id: string; values: readonly string[] }): JSX.Element {
  return (
    <datalist id={id}>
      {values.slice(0, 200).map((v) => (
        <option value={v} />
      ))}
    </datalist>
  );
}

function OpSelect({
  op,
  onChange,
  ops = OPS,
}: {
  op: string;
  onChange: (op: string) => void;
  ops?: readonly string[];
}): JSX.Element {
  return (
    <select
      value={op}
      onChange={(e) => onChange(e.currentTarget.value)}
      aria-label="operator"
      data-role="op"
    >
      {ops.map((o) => (
        <option value={o}>{o}</option>
      ))}
    </select>
  );
}

function Named(props: {
  kind: 'tag' | 'trait';
  node: Record<string, unknown>;
  onChange: (n: Record<string, unknown>) => void;
  catalog: Catalog;
}): JSX.Element {
  const { node, catalog } = props;
  const name = text(node['name']);
  const op = text(node['op'], 'eq');
  const tagType =
    props.kind === 'tag' ? catalog.tags.find((t) => t.name === name)?.valueType : undefined;
  const numeric = tagType === 'number';
  const nameList = `names-${props.kind}`;
  const valueList = `values-${++listIds}`;
  return (
    <span class="cond-fields">
      <input
        list={props.kind === 'tag' ? nameList : undefined}
        placeholder={props.kind === 'tag' ? 'tag' : 'trait'}
        value={name}
        onInput={(e) => props.onChange({ ...node, name: e.currentTarget.value })}
        aria-label={`${props.kind} name`}
        data-role="name"
      />
      {props.kind === 'tag' ? (
        <DataList id={nameList} values={catalog.tags.map((t) => t.name)} />
      ) : null}
      <OpSelect
        op={op}
        onChange={(o) => props.onChange({ name, ...test(o, showValue(node['value']), numeric) })}
      />
      {op === 'exists' || op === 'not_exists' ? null : (
        <>
          <input
            list={valueList}
            placeholder={
              op === 'in' || op === 'not_in' ? 'a, b, c' : op === 'between' ? 'low, high' : 'value'
            }
            value={showValue(node['value'])}
            onInput={(e) => props.onChange({ name, ...test(op, e.currentTarget.value, numeric) })}
            aria-label="value"
            data-role="value"
          />
          {props.kind === 'tag' ? (
            <DataList id={valueList} values={catalog.tagValues(name)} />
          ) : null}
        </>
      )}
    </span>
  );
}

function Performed(props: {
  node: Record<string, unknown>;
  onChange: (n: Record<string, unknown>) => void;
  catalog: Catalog;
}): JSX.Element {
  const { node, catalog } = props;
  const event = text(node['event']);
  const where = (Array.isArray(node['where']) ? node['where'] : []) as Record<string, unknown>[];
  const count = (node['count'] ?? { op: 'gte', value: 1 }) as { op: string; value: number };
  const within = node['within'] as { days?: number } | undefined;
  const props_ = catalog.events.find((e) => e.event === event)?.properties ?? [];
  const propList = `props-${++listIds}`;
  const set = (k: string, v: unknown): void => {
    const next = { ...node };
    if (v === undefined) delete next[k];
    else next[k] = v;
    props.onChange(next);
  };
  return (
    <span class="cond-fields">
      <input
        list="event-names"
        placeholder="event"
        value={event}
        onInput={(e) => set('event', e.currentTarget.value)}
        aria-label="event"
        data-role="event"
      />
      <DataList id="event-names" values={catalog.events.map((e) => e.event)} />
      <span class="muted">count</span>
      <OpSelect
        ops={COUNT_OPS}
        op={count.op}
        onChange={(o) => set('count', { op: o, value: count.value })}
      />
      <input
        type="number"
        min={0}
        class="narrow"
        value={count.value}
        onInput={(e) => set('count', { op: count.op, value: Number(e.currentTarget.value) })}
        aria-label="count"
        data-role="count"
      />
      <span class="muted">in the last</span>
      <input
        type="number"
        min={1}
        class="narrow"
        placeholder="all time"
        value={within?.days ?? ''}
        onInput={(e) =>
          set(
            'within',
            e.currentTarget.value === '' ? undefined : { days: Number(e.currentTarget.value) },
          )
        }
        aria-label="days"
        data-role="days"
      />
      <span class="muted">days</span>
      {within !== undefined && within.days === undefined ? (
        <code>{JSON.stringify(within)}</code>
      ) : null}
      <DataList id={propList} values={props_} />
      {where.map((w, i) => (
        <span class="where">
          <span class="muted">where</span>
          <input
            list={propList}
            placeholder="property"
            value={text(w['property'])}
            onInput={(e) =>
              set(
                'where',
                where.map((x, j) => (j === i ? { ...x, property: e.currentTarget.value } : x)),
              )
            }
            aria-label="property"
            data-role="property"
          />
          <OpSelect
            op={text(w['op'], 'eq')}
            onChange={(o) =>
              set(
                'where',
                where.map((x, j) =>
                  j === i
                    ? { property: x['property'], ...test(o, showValue(x['value']), false) }
                    : x,
                ),
              )
            }
          />
          <input
            placeholder="value"
            value={showValue(w['value'])}
            onInput={(e) =>
              set(
                'where',
                where.map((x, j) =>
                  j === i
                    ? {
                        property: x['property'],
                        ...test(
                          text(x['op'], 'eq'),
                          e.currentTarget.value,
                          isNum(e.currentTarget.value),
                        ),
                      }
                    : x,
                ),
              )
            }
            aria-label="property value"
            data-role="property-value"
          />
          <button
            type="button"
            class="icon"
            title="Remove filter"
            onClick={() =>
              set('where', where.length === 1 ? undefined : where.filter((_, j) => j !== i))
            }
          >
            ×
          </button>
        </span>
      ))}
      <button
        type="button"
        class="link"
        onClick={() => set('where', [...where, { property: '', op: 'eq', value: '' }])}
      >
        + where
      </button>
    </span>
  );
}

const KINDS: Record<string, () => Cond> = {
  tag: () => ({ tag: { name: '', op: 'eq', value: '' } }),
  trait: () => ({ trait: { name: '', op: 'eq', value: '' } }),
  performed: () => ({ performed: { event: '', within: { days: 30 } } }),
  in_audience: () => ({ in_audience: '' }),
  identifier: () => ({ identifier: { type: 'email' } }),
};

function Leaf(props: { node: Cond; onChange: (n: Cond) => void; catalog: Catalog }): JSX.Element {
  const kind = Object.keys(props.node)[0] ?? '';
  const body = props.node[kind];
  const set = (v: unknown): void => props.onChange({ [kind]: v });
  let fields: JSX.Element;
  switch (kind) {
    case 'tag':
    case 'trait':
      fields = (
        <Named
          kind={kind}
          node={body as Record<string, unknown>}
          onChange={set}
          catalog={props.catalog}
        />
      );
      break;
    case 'performed':
      fields = (
        <Performed node={body as Record<string, unknown>} onChange={set} catalog={props.catalog} />
      );
      break;
    case 'in_audience':
      fields = (
        <select
          value={String(body)}
          onChange={(e) => set(e.currentTarget.value)}
          aria-label="audience"
          data-role="audience"
        >
          <option value="">(choose)</option>
          {props.catalog.audiences.map((a) => (
            <option value={a}>{a}</option>
          ))}
        </select>
      );
      break;
    case 'identifier':
      fields = (
        <select
          value={String((body as { type?: string }).type ?? 'email')}
          onChange={(e) => set({ type: e.currentTarget.value })}
          aria-label="identifier type"
        >
          {IDENTIFIER_TYPES.map((t) => (
            <option value={t}>{t}</option>
          ))}
        </select>
      );
      break;
    default:
      fields = (
        <textarea
          class="code-editor small"
          value={JSON.stringify(body, null, 1)}
          onChange={(e) => {
            try {
              set(JSON.parse(e.currentTarget.value));
            } catch {
              // Kept as it was until it parses.
            }
          }}
        />
      );
  }
  return (
    <span class="leaf">
      <select
        class="kind"
        value={kind}
        onChange={(e) => {
          const make = KINDS[e.currentTarget.value];
          if (make) props.onChange(make());
        }}
        aria-label="condition kind"
        data-role="kind"
      >
        {[...Object.keys(KINDS), ...(kind in KINDS ? [] : [kind])].map((k) => (
          <option value={k}>{k}</option>
        ))}
      </select>
      {fields}
    </span>
  );
}

/** One node of the tree: a group, a `not`, or a condition. */
export function CondEditor(props: {
  node: Cond;
  onChange: (n: Cond) => void;
  onRemove?: (() => void) | undefined;
  catalog: Catalog;
  path?: string;
}): JSX.Element {
  const { node, catalog } = props;
  const path = props.path ?? 'conditions';
  const remove = props.onRemove ? (
    <button type="button" class="icon" title="Remove" onClick={props.onRemove} data-role="remove">
      ×
    </button>
  ) : null;
  if ('not' in node) {
    return (
      <div class="cond not" data-path={path}>
        <span class="badge">NOT</span>
        <button type="button" class="link" onClick={() => props.onChange(node['not'] as Cond)}>
          remove not
        </button>
        {remove}
        <CondEditor
          node={node['not'] as Cond}
          onChange={(n) => props.onChange({ not: n })}
          catalog={catalog}
          path={`${path}.not`}
        />
      </div>
    );
  }
  const groupKey = 'and' in node ? 'and' : 'or' in node ? 'or' : undefined;
  if (groupKey !== undefined) {
    const items = node[groupKey] as Cond[];
    const setItems = (xs: Cond[]): void => props.onChange({ [groupKey]: xs });
    return (
      <div class={`cond group ${groupKey}`} data-path={path}>
        <div class="group-head">
          <select
            value={groupKey}
            onChange={(e) => props.onChange({ [e.currentTarget.value]: items })}
            aria-label="group"
            data-role="group"
          >
            <option value="and">all of (and)</option>
            <option value="or">any of (or)</option>
          </select>
          <button
            type="button"
            class="link"
            onClick={() => setItems([...items, KINDS['tag']!()])}
            data-role="add-condition"
          >
            + condition
          </button>
          <button
            type="button"
            class="link"
            onClick={() => setItems([...items, { and: [KINDS['tag']!()] }])}
            data-role="add-group"
          >
            + group
          </button>
          <button type="button" class="link" onClick={() => props.onChange({ not: node })}>
            not
          </button>
          {remove}
        </div>
        {items.map((c, i) => (
          <CondEditor
            node={c}
            path={`${path}.${groupKey}[${i}]`}
            catalog={catalog}
            onChange={(n) => setItems(items.map((x, j) => (j === i ? n : x)))}
            onRemove={
              items.length > 1 ? () => setItems(items.filter((_, j) => j !== i)) : undefined
            }
          />
        ))}
      </div>
    );
  }
  return (
    <div class="cond" data-path={path}>
      <Leaf node={node} onChange={props.onChange} catalog={catalog} />
      <button type="button" class="link" onClick={() => props.onChange({ not: node })}>
        not
      </button>
      {remove}
    </div>
  );
}
