// The command table. Summaries live here so `stella --help` lists commands without importing them
// (start-up time); each module is loaded only when its command runs.
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'canon', summary: 'print the canonical form (or hash) of a JSON artifact', load: async () => (await import('./canon.js')).default },
  { name: 'manifest', summary: 'validate, hash, sign or verify a ScanManifest', load: async () => (await import('./manifest.js')).default },
  { name: 'blob', summary: 'put, get or check blobs in the content-addressed store', load: async () => (await import('./blob.js')).default },
];
