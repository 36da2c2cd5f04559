// Builds the console (app/main.tsx) into dist/app: index.html and its
// content-hashed script and stylesheet under assets/ (minified, ES2020), then
// prints their sizes. Fails when the first page's JavaScript is not under the
// 300 KB gzip budget. Runs after `tsc` in `npm run build`.
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist', 'app');
const tmp = join(here, 'dist', `.app-${process.pid}`);
const BUDGET_GZIP_BYTES = 300 * 1024;

await rm(tmp, { recursive: true, force: true });
const result = await build({
  entryPoints: { console: join(here, 'app/main.tsx') },
  outdir: join(tmp, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  // Workspace packages (the SDK's snippet) from their TypeScript sources.
  conditions: ['source'],
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
await writeFile(
  join(tmp, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CDP console</title>
<link rel="icon" href="data:,">
${css ? `<link rel="stylesheet" href="/console/assets/${css}">` : ''}
<script type="module" src="/console/assets/${js}"></script>
</head>
<body><div id="app"></div></body>
</html>
`,
);
// Swapped in whole: a server reading the folder meanwhile never sees half a build.
await mkdir(join(here, 'dist'), { recursive: true });
const old = join(here, 'dist', `.old-${process.pid}`);
await rename(out, old).catch(() => undefined);
await rename(tmp, out);
await rm(old, { recursive: true, force: true });

const size = async (name) => {
  const body = await readFile(join(out, 'assets', name));
  return { min: body.length, gzip: gzipSync(body, { level: 9 }).length };
};
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const s = await size(js);
console.log(
  `dist/app/assets/${js}  ${kb(s.min)} minified, ${kb(s.gzip)} gzipped (budget ${kb(BUDGET_GZIP_BYTES)})`,
);
if (css) {
  const c = await size(css);
  console.log(`dist/app/assets/${css}  ${kb(c.min)} minified, ${kb(c.gzip)} gzipped`);
}
if (s.gzip >= BUDGET_GZIP_BYTES) {
  console.error(`the console's script is over its gzip budget of ${kb(BUDGET_GZIP_BYTES)}`);
  process.exitCode = 1;
}
