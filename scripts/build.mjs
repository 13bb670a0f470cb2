// `npm run build` (after tsc, which type-checks and emits dist/ for the benches and the scanner image):
// esbuild writes one ESM bundle per entry point over tsc's file at the same path, so every path that
// names a dist file (package.json bin and start, bin/link-local.mjs, test/helpers/cli.ts STELLA_BIN,
// the query worker) keeps working. Why: loading ~400 small modules (ours, Ink, React) cost most of the
// workstation's first frame; one file each is read and compiled in one go.
//
// - dist/src/cli/entry.js: the CLI. Commands stay lazy (`import()` in src/cli/registry.ts becomes a
//   chunk under dist/chunks/), so a command's `--help` loads neither Ink nor the store; Ink and React
//   come with the workstation's chunk only.
// - dist/bin/stella.js: the executable (bin/stella.cts), CommonJS so that `stella --help` and
//   `--version` (text taken from tsc's src/cli/main.js here) never start Node's ES module loader.
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
// behaviour, slower start) until the next `npm run build`; the executable keeps the help text of the
// last build.
//
// Native or file-loading packages stay external: better-sqlite3 (a .node addon), dockerode (loads
// .proto files beside itself), @bokuweb/zstd-wasm (reads zstd.wasm beside itself).
import { build } from 'esbuild';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

// string-width (Ink's text measure) asks every non-ASCII grapheme whether it is an RGI emoji with
// /^\p{RGI_Emoji}$/v; V8 builds that regular expression (Unicode's whole emoji sequence set) on its
// first test, ~40 ms of CPU on the first frame, whose "…" and box glyphs are no emoji at all. Every
// RGI emoji sequence holds a code point with the Emoji property and none is one ASCII character, so
// testing those two first gives the same answer for every input and builds the big expression only
// when an emoji is really on screen. Fails the build if string-width's code changes.
const RGI_TEST = 'if (rgiEmojiRegex.test(segment) || isDoubleWidthNonRgiEmojiSequence(segment)) {';
const RGI_DECL = 'const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;';
const RGI_FAST = 'if (((segment.length > 1 || segment.charCodeAt(0) > 0x7F) && emojiCodePointRegex.test(segment) && rgiEmojiRegex.test(segment)) || isDoubleWidthNonRgiEmojiSequence(segment)) {';
const emojiLast = {
  name: 'string-width-emoji-last',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      // Other majors (wrap-ansi's own string-width 7) do not have the line: left as they are.
      if (!text.includes('rgiEmojiRegex')) return undefined;
      if (text.split(RGI_TEST).length !== 2 || text.split(RGI_DECL).length !== 2) {
        throw new Error(`${args.path}: the emoji test changed; revisit the string-width-emoji-last patch in scripts/build.mjs`);
      }
      const contents = text.replace(RGI_DECL, `${RGI_DECL}\nconst emojiCodePointRegex = /\\p{Emoji}/u;`).replace(RGI_TEST, RGI_FAST);
      return { contents, loader: 'js' };
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
  plugins: [yogaWithoutFetch, emojiLast],
};

rmSync(path.join(dist, 'chunks'), { recursive: true, force: true });
await build({
  ...common,
  entryPoints: ['src/cli/entry.ts', 'src/app/query-worker.ts', 'src/app/index-worker.ts'],
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});

// The executable: CommonJS (a package.json beside it says so), with the top help and version as text.
const { topHelp, VERSION } = await import(pathToFileURL(path.join(dist, 'src/cli/main.js')).href);
await build({
  absWorkingDir: root,
  entryPoints: ['bin/stella.cts'],
  outfile: path.join(dist, 'bin/stella.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
  define: { STELLA_TOP_HELP: JSON.stringify(topHelp()), STELLA_VERSION: JSON.stringify(VERSION) },
});
writeFileSync(path.join(dist, 'bin/package.json'), '{ "type": "commonjs" }\n');
chmodSync(path.join(dist, 'bin/stella.js'), 0o755);
