import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { snippet } from '@cdp/sdk-browser/snippet';
import { api, get } from '../api';
import { Action, Card, ErrorBox, Field, Table, useAsync, when } from '../ui';

interface Source {
  id: string;
  name: string;
  writeKeyPrefix: string;
  allowedOrigins: string[];
  redirectAllowlist: string[];
  createdAt: string;
}

const list = (s: string): string[] =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * The snippet to paste into a site's `<head>` with a write key. The host is
 * this page's origin (the all-in-one runner serves ingest and the API on one
 * port); distributed, it is the ingest service's public URL, which the user
 * types here.
 */
export function SnippetBox({ writeKey }: { writeKey: string }): JSX.Element {
  const [host, setHost] = useState(location.origin);
  const code = `<script>${snippet({ host, writeKey })}</script>`;
  return (
    <div class="snippet">
      <p>Paste into every page's &lt;head&gt;. The write key is shown only now: keep it.</p>
      <Field
        label="Ingest URL"
        hint="where sites send events: this origin on the all-in-one runner, the ingest service's public URL when distributed"
      >
        <input value={host} onInput={(e) => setHost(e.currentTarget.value)} name="ingest-url" />
      </Field>
      <pre data-testid="snippet">{code}</pre>
      <button type="button" onClick={() => void navigator.clipboard?.writeText(code)}>
        Copy
      </button>
    </div>
  );
}

function Edit({ s, onSaved }: { s: Source; onSaved: () => void }): JSX.Element {
  const [origins, setOrigins] = useState(s.allowedOrigins.join(', '));
  const [redirects, setRedirects] = useState(s.redirectAllowlist.join(', '));
  return (
    <div class="edit">
      <Field
        label="Allowed origins"
        hint="https://shop.example, comma separated; * for any; empty: server-side only"
      >
        <input
          value={origins}
          onInput={(e) => setOrigins(e.currentTarget.value)}
          name="allowedOrigins"
        />
      </Field>
      <Field
        label="Redirect allow-list"
        hint="hosts the click redirect may send people to (shop.example, *.shop.example)"
      >
        <input
          value={redirects}
          onInput={(e) => setRedirects(e.currentTarget.value)}
          name="redirectAllowlist"
        />
      </Field>
      <Action
        label="Save"
        kind="primary"
        run={async () => {
          await api('PATCH', `/v1/sources/${encodeURIComponent(s.id)}`, {
            allowedOrigins: list(origins),
            redirectAllowlist: list(redirects),
          });
          onSaved();
        }}
      />
    </div>
  );
}

export function Sources(): JSX.Element {
  const sources = useAsync(() => get<{ sources: Source[] }>('/v1/sources'), []);
  const [name, setName] = useState('');
  const [origins, setOrigins] = useState('');
  const [issued, setIssued] = useState<{ source: string; writeKey: string } | undefined>(undefined);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  return (
    <>
      <h1>Sources</h1>
      <ErrorBox error={sources.error} />
      {issued !== undefined ? (
        <Card title={`Write key of ${issued.source}`}>
          <code class="key" data-testid="write-key">
            {issued.writeKey}
          </code>
          <SnippetBox writeKey={issued.writeKey} />
        </Card>
      ) : null}
      <Card title="Sources">
        <Table
          testid="sources"
          rows={sources.data?.sources ?? []}
          columns={[
            { label: 'Name', cell: (s) => s.name },
            { label: 'Id', cell: (s) => <code>{s.id}</code> },
            { label: 'Key', cell: (s) => <code>{s.writeKeyPrefix}…</code> },
            {
              label: 'Allowed origins',
              cell: (s) => s.allowedOrigins.join(', ') || '(server-side only)',
            },
            { label: 'Redirects to', cell: (s) => s.redirectAllowlist.join(', ') || '(none)' },
            { label: 'Created', cell: (s) => when(s.createdAt) },
            {
              label: '',
              cell: (s) => (
                <span class="row-actions">
                  <button
                    type="button"
                    onClick={() => setEditing(editing === s.id ? undefined : s.id)}
                  >
                    Edit
                  </button>
                  <Action
                    label="Rotate key"
                    confirm={`Issue a new write key for ${s.name}? The old one stops working now.`}
                    run={async () => {
                      const r = await api<{ writeKey: string }>(
                        'POST',
                        `/v1/sources/${encodeURIComponent(s.id)}/rotate-key`,
                      );
                      setIssued({ source: s.name, writeKey: r.writeKey });
                      sources.reload();
                    }}
                  />
                </span>
              ),
            },
          ]}
        />
        {editing !== undefined && sources.data ? (
          <Edit
            s={sources.data.sources.find((s) => s.id === editing)!}
            onSaved={() => {
              setEditing(undefined);
              sources.reload();
            }}
          />
        ) : null}
      </Card>
      <Card title="New source">
        <Field label="Name">
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} name="name" />
        </Field>
        <Field label="Allowed origins" hint="where a website sends from (https://shop.example)">
          <input
            value={origins}
            onInput={(e) => setOrigins(e.currentTarget.value)}
            name="origins"
          />
        </Field>
        <Action
          label="Create"
          kind="primary"
          testid="create-source"
          run={async () => {
            const r = await api<{ source: Source; writeKey: string }>('POST', '/v1/sources', {
              name,
              allowedOrigins: list(origins),
            });
            setIssued({ source: r.source.name, writeKey: r.writeKey });
            setName('');
            setOrigins('');
            sources.reload();
          }}
        />
      </Card>
    </>
  );
}
