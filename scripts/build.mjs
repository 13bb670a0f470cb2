// `npm run build` (after tsc, which type-checks and emits dist/ for the benches and the scanner image):
// esbuild writes one ESM bundle per entry point over tsc's file at the same path, so every path that
// names a dist file (package.json bin and start, bin/link-local.mjs, test/helpers/cli.ts STELLA_BIN,
// the query worker) keeps working. Why: loading ~400 small modules (ours, Ink, React) cost most of the
// workstation's first frame; one file each is read and compiled in one go.
//
// - dist/bin/stella.js: the CLI. Commands stay lazy (`import()` in src/cli/registry.ts becomes a
//   chunk under dist/chunks/), so `--help` loads neither Ink nor the store; Ink and React come with
//   the workstation's chunk only.
// - dist/src/app/query-worker.js: the workstation's query thread (a Worker needs a file of its own;
//   src/app/workstation.ts finds it from dist/chunks/ too); dist/src/app/index-worker.js: `stella
//   index`'s reading threads (src/app/indexer.ts finds it the same way).
//
// Not bundled: the scanner entry (dist/src/scanner/entry.js). The image ships the compiled files
// reachable from it (src/adapters/docker/image-archive.ts moduleGraph), and a candidate scanner is a
// copy of dist/ with one compiled module changed (test/canary/canary-docker.test.ts patches
// dist/src/scanner/match.js): a bundle would hide that change from the image.
//
// A bare `npx tsc -p .` writes tsc's files back over the bundles: the CLI then runs unbundled (same
// behaviour, slower start) until the next `npm run build`.
//
// Native or file-loading packages stay external: better-sqlite3 (a .node addon), dockerode (loads
// .proto files beside itself), @bokuweb/zstd-wasm (reads zstd.wasm beside itself).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

// CommonJS packages bundled into ESM call require() for Node built-ins: give them one.
const banner = "import { createRequire as __stellaCreateRequire } from 'node:module'; const require = __stellaCreateRequire(import.meta.url);";

// yoga-layout (Ink's layout engine) ships its WebAssembly as a data: URI and, finding `fetch`, fetches
// it: on Node 20 that loads undici and web streams (~100 ms of CPU before the first frame, on a busy
// box). Emscripten's own synchronous branch decodes the same data: URI; take that one. The build fails
// if a yoga-layout upgrade changes the code, so the patch cannot silently stop applying.
const YOGA_FETCH = '"function"!=typeof fetch?Promise.resolve().then(function(){return wa()})';
const yogaWithoutFetch = {
  name: 'yoga-without-fetch',
  setup(b) {
    b.onLoad({ filter: /yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (text.split(YOGA_FETCH).length !== 2) throw new Error(`${args.path}: the wasm loader changed; revisit the yoga-without-fetch patch in scripts/build.mjs`);
      return { contents: text.replace(YOGA_FETCH, '!0?Promise.resolve().then(function(){return wa()})'), loader: 'js' };
    });
  },
};

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outdir: dist,
  outbase: root,
  banner: { js: banner },
  legalComments: 'none',
  logLevel: 'warning',
  // React and Ink pick their production builds (no dev-only checks in the shipped CLI).
  define: { 'process.env.NODE_ENV': '"production"' },
  external: ['better-sqlite3', 'dockerode', '@bokuweb/zstd-wasm', 'react-devtools-core'],
  plugins: [yogaWithoutFetch],
};

rmSync(path.join(dist, 'chunks'), { recursive: true, force: true });
await build({
  ...common,
  entryPoints: ['bin/stella.ts', 'src/app/query-worker.ts', 'src/app/index-worker.ts'],
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});
