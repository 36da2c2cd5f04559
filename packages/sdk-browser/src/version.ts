/** The library name sent as `context.library.name`. */
export const LIBRARY_NAME = '@cdp/sdk-browser';

/** This package's version, sent as `context.library.version` (kept equal to package.json by a test). */
export const VERSION = '0.1.0';
