// Run by `npm install` (prepare): puts this checkout's built CLI at node_modules/.bin/stella. npm links the
// bins of dependencies, not of the root package itself, so we add the link to node_modules/.bin.
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'dist/bin/stella.js');
chmodSync(target, 0o755);
const binDir = path.join(root, 'node_modules/.bin');
mkdirSync(binDir, { recursive: true });
const link = path.join(binDir, 'stella');
rmSync(link, { force: true });
symlinkSync(path.relative(binDir, target), link);
