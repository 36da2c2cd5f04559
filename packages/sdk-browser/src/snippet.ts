import { normalizeHost, type CdpOptions } from './options.js';

/** Where the ingest service serves the built SDK: no word ad blockers match. */
export const DEFAULT_SCRIPT_PATH = '/s/c.js';

/** Default name of the global the SDK lives in. */
export const DEFAULT_GLOBAL_NAME = 'cdp';

/** Input of {@link snippet}. */
export interface SnippetOptions {
  /** Origin of the ingest service, which serves the script and takes the events. */
  readonly host: string;
  readonly writeKey: string;
  /** Path of the script on `host` (default {@link DEFAULT_SCRIPT_PATH}). */
  readonly path?: string;
  /** Name of the global (default {@link DEFAULT_GLOBAL_NAME}). */
  readonly globalName?: string;
  /** Call `page()` right away (default `true`). */
  readonly page?: boolean;
  /** More `load()` options (JSON values only). */
  readonly options?: CdpOptions;
}

/**
 * The stub, ES5: until the script arrives, the global is an array whose
 * methods push `[method, arguments, Date.now()]`; `load` also inserts the
 * async script tag, naming the global in `data-global`. The script replaces
 * the stub and replays the calls in order, with their times.
 */
const STUB =
  '!function(w,d,n,u,k,o,p){var c=w[n]=w[n]||[];if(c.invoked||!c.push)return;c.invoked=1;' +
  '"page track identify alias group reset consent ready".split(" ").forEach(function(m){' +
  'c[m]=function(){c.push([m,[].slice.call(arguments),+new Date]);return c}});' +
  'c.load=function(k,o){var s=d.createElement("script"),f=d.getElementsByTagName("script")[0];' +
  's.async=1;s.src=u;s.setAttribute("data-global",n);' +
  'f?f.parentNode.insertBefore(s,f):d.head.appendChild(s);c.push(["load",[k,o],+new Date])};' +
  'c.load(k,o);p&&c.page()}';

/** JSON that is also safe inside an inline `<script>`. */
function literal(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The body of the `<script>` tag sites paste into their pages: loads the SDK
 * from `host + path` without blocking the page and queues calls meanwhile.
 */
export function snippet(o: SnippetOptions): string {
  const host = normalizeHost(o.host);
  const args = [
    literal(o.globalName ?? DEFAULT_GLOBAL_NAME),
    literal(host + (o.path ?? DEFAULT_SCRIPT_PATH)),
    literal(o.writeKey),
    literal({ ...o.options, host }),
    o.page === false ? '0' : '1',
  ];
  return `${STUB}(window,document,${args.join(',')});`;
}
