// `stella canon FILE [--schema S] [--hash]`: the canonical bytes (or canonical hash) of one artifact —
// the same path BF uses, so a user can see exactly what was hashed.
import path from 'node:path';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError, isStellaError } from '../core/errors.js';
import { readBytes } from '../adapters/fs.js';
import { SCHEMA_ALIASES, canonicalizeArtifactBytes } from '../core/canonical/index.js';

const SCHEMA_NAMES = ['auto', 'cyclonedx', 'openvex', 'findings', 'verdict', 'none'];

const command: Command = {
  name: 'canon',
  summary: 'print the canonical form (or hash) of a JSON artifact',
  usage: 'canon FILE [--schema auto|cyclonedx|openvex|findings|verdict|none] [--hash]',
  options: {
    schema: { type: 'string', default: 'auto' },
    hash: { type: 'boolean' },
  },
  optionHelp: {
    schema: 'which canonicalization rules to apply (default auto: detected from the document)',
    hash: 'print `sha256:<hex>  FILE` (the canonical hash) instead of the bytes',
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new StellaError('USAGE', 'canon needs exactly one FILE (see stella canon --help)');
    const file = positionals[0];
    const schemaArg = String(values.schema ?? 'auto');
    const choice = SCHEMA_ALIASES[schemaArg];
    if (choice === undefined) {
      throw new StellaError('USAGE', `unknown --schema '${schemaArg}': expected one of ${SCHEMA_NAMES.join('|')}`);
    }
    let bytes: Buffer;
    try {
      bytes = readBytes(path.resolve(ctx.cwd, file));
    } catch (e) {
      // Name the file as the user typed it, not the resolved path.
      if (isStellaError(e)) throw new StellaError(e.code, e.message, { file, path: e.path ?? '$' }, { cause: e });
      throw e;
    }
    // One pass over the bytes; a document it cannot take goes through parse → normalize, which names
    // the file and JSON path of what is wrong.
    const canonical = canonicalizeArtifactBytes(choice, bytes, file);
    if (values.hash) {
      ctx.stdout.write(`${canonical.digest}  ${file}\n`);
    } else {
      // Exactly the canonical bytes when piped (so `| sha256sum` gives the canonical hash); a newline
      // only for a terminal, where the prompt would otherwise land on the same line.
      ctx.stdout.write(canonical.bytes);
      if (ctx.stdout.isTTY) ctx.stdout.write('\n');
    }
    return EXIT.OK;
  },
};

export default command;
