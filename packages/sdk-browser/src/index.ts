/**
 * The browser SDK for bundlers (`createCdp`) and the snippet generator for
 * servers (`snippet`). Importing this module touches no browser global; the
 * built script (`@cdp/sdk-browser/bundle`) is the snippet's counterpart.
 */
export { createCdp, type Cdp } from './cdp.js';
export type { Env } from './env.js';
export {
  CdpConfigError,
  DEFAULT_OPTIONS,
  resolveOptions,
  type BeforeConsent,
  type CdpOptions,
  type ResolvedOptions,
} from './options.js';
export {
  DEFAULT_GLOBAL_NAME,
  DEFAULT_SCRIPT_PATH,
  snippet,
  type SnippetOptions,
} from './snippet.js';
export type {
  CallOptions,
  Campaign,
  CdpEvent,
  ConsentInput,
  EventContext,
  EventType,
  PageContext,
  Properties,
  Traits,
  User,
} from './types.js';
export { LIBRARY_NAME, VERSION } from './version.js';
