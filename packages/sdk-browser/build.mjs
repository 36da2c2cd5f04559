// Builds the script the ingest service serves (dist/cdp.min.js: IIFE,
// minified, ES2018) and a ready-to-paste minified snippet with placeholders
// (dist/snippet.min.js), then prints their sizes. Fails when the script is
// not under the 8 KB gzip budget. Runs after `tsc -b` in `npm run build`,
// and on its own (tests build the bundle when dist is missing).
import { build } from 'esbuild';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const BUDGET_GZIP_BYTES = 8 * 1024;

// Written whole, then renamed: the ingest service (or a test) reading the
// script meanwhile never sees half a file.
const writeAtomic = async (name, text) => {
  const tmp = join(dist, `.${name}.${process.pid}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, join(dist, name));
};

await mkdir(dist, { recursive: true });
const sdkBuild = await build({
  entryPoints: [join(here, 'src/global.ts')],
  write: false,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2018',
  minify: true,
  // Plain assignments for class fields: no defineProperty helper in the bundle.
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
  legalComments: 'none',
  logLevel: 'warning',
});
await writeAtomic('cdp.min.js', sdkBuild.outputFiles[0].contents);

// The snippet generator, bundled for node so this script needs no prior tsc.
const gen = await build({
  entryPoints: [join(here, 'src/snippet.ts')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  write: false,
  logLevel: 'warning',
});
const { snippet } = await import(
  `data:text/javascript;base64,${Buffer.from(gen.outputFiles[0].text).toString('base64')}`
);
const pasted = snippet({ host: 'https://YOUR_CDP_HOST', writeKey: 'YOUR_WRITE_KEY' });
await writeAtomic('snippet.min.js', `${pasted}\n`);

const size = async (name) => {
  const body = await readFile(join(dist, name));
  return { min: body.length, gzip: gzipSync(body, { level: 9 }).length };
};
const sdk = await size('cdp.min.js');
const snip = await size('snippet.min.js');
console.log(
  `dist/cdp.min.js      ${sdk.min} B minified, ${sdk.gzip} B gzipped (budget ${BUDGET_GZIP_BYTES} B)`,
);
console.log(`dist/snippet.min.js  ${snip.min} B minified, ${snip.gzip} B gzipped`);
if (sdk.gzip >= BUDGET_GZIP_BYTES) {
  console.error(`dist/cdp.min.js is over its gzip budget of ${BUDGET_GZIP_BYTES} B`);
  process.exitCode = 1;
}
