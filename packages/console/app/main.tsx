import { render, type JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { onUnauthorized, saveSession, session, signIn, type Session } from './api';
import { ErrorBox } from './ui';
import { Overview } from './pages/overview';
import { LiveEvents } from './pages/live';
import { Sources } from './pages/sources';
import { People, Person } from './pages/people';
import { Tags } from './pages/tags';
import { Audiences, AudienceEditor } from './pages/audiences';
import { Attribution, Funnels, Paths } from './pages/analytics';
import { Alerts } from './pages/alerts';

interface PageDef {
  readonly path: string;
  readonly title: string;
  readonly admin?: boolean;
}

export const PAGES: readonly PageDef[] = [
  { path: 'overview', title: 'Overview' },
  { path: 'live', title: 'Live events' },
  { path: 'sources', title: 'Sources', admin: true },
  { path: 'people', title: 'People' },
  { path: 'tags', title: 'Tags' },
  { path: 'audiences', title: 'Audiences' },
  { path: 'attribution', title: 'Attribution' },
  { path: 'funnels', title: 'Funnels' },
  { path: 'paths', title: 'Paths' },
  { path: 'alerts', title: 'Alerts' },
];

/** The route in the URL's fragment: `#/people/<oneId>` is `['people', '<oneId>']`. */
function useRoute(): string[] {
  const parse = (): string[] =>
    location.hash
      .replace(/^#\/?/, '')
      .replace(/\?.*$/, '')
      .split('/')
      .filter(Boolean)
      .map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = (): void => setRoute(parse());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function SignIn({ onDone }: { onDone: (s: Session) => void }): JSX.Element {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onDone(await signIn(token.trim()));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={(e) => void submit(e)}>
        <h1>CDP console</h1>
        <p class="muted">
          Sign in with the admin token (printed at the first start, in the credentials file) or the
          read-only analytics token.
        </p>
        <input
          type="password"
          name="token"
          autocomplete="current-password"
          placeholder="Token"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          required
        />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
        <ErrorBox error={error} />
      </form>
    </main>
  );
}

function Page({ route }: { route: string[] }): JSX.Element {
  const [area = 'overview', id] = route;
  switch (area) {
    case 'live':
      return <LiveEvents />;
    case 'sources':
      return <Sources />;
    case 'people':
      return id === undefined ? <People /> : <Person oneId={id} />;
    case 'tags':
      return <Tags selected={id} />;
    case 'audiences':
      return id === undefined ? (
        <Audiences />
      ) : (
        <AudienceEditor name={id === 'new' ? undefined : id} />
      );
    case 'attribution':
      return <Attribution />;
    case 'funnels':
      return <Funnels />;
    case 'paths':
      return <Paths />;
    case 'alerts':
      return <Alerts />;
    default:
      return <Overview />;
  }
}

function App(): JSX.Element {
  const [s, setS] = useState<Session | undefined>(session());
  const route = useRoute();
  useEffect(
    () =>
      onUnauthorized(() => {
        saveSession(undefined);
        setS(undefined);
      }),
    [],
  );
  if (s === undefined) {
    return (
      <SignIn
        onDone={(n) => {
          saveSession(n);
          setS(n);
        }}
      />
    );
  }
  const area = route[0] ?? 'overview';
  return (
    <div class="shell">
      <nav>
        <div class="brand">CDP</div>
        {PAGES.filter((p) => p.admin !== true || s.role === 'admin').map((p) => (
          <a href={`#/${p.path}`} class={p.path === area ? 'active' : undefined}>
            {p.title}
          </a>
        ))}
        <div class="who">
          <span class="muted">{s.role === 'admin' ? 'Admin' : 'Analyst (read-only)'}</span>
          <button
            type="button"
            onClick={() => {
              saveSession(undefined);
              setS(undefined);
            }}
          >
            Sign out
          </button>
        </div>
      </nav>
      <main class="page" data-page={area}>
        <Page route={route} />
      </main>
    </div>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
