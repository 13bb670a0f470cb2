import path from 'node:path';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { BlobStore } from '../adapters/blob-store.js';
import { writeFileAtomic } from '../adapters/fs.js';
import { readPolicyFile, resolvePolicyRef, diffPolicies } from '../app/policy.js';

const command: Command = {
  name: 'policy',
  summary: 'compile a policy (JSON or YAML) into a content-addressed bundle',
  usage: 'policy bundle POLICY.(json|yaml) --out FILE | show REF [--json] | diff A B [--json]',
  options: { out: { type: 'string', short: 'o' }, json: { type: 'boolean' } },
  optionHelp: { out: 'bundle: write the compiled canonical JSON here (atomically)', json: 'machine-readable output' },
  async run({ values, positionals }, ctx) {
    const [verb, ...args] = positionals;
    const blobs = BlobStore.fromEnv(ctx.env, ctx.cwd);
    switch (verb) {
      case 'bundle': {
        if (args.length !== 1) throw new StellaError('USAGE', 'bundle needs exactly one POLICY file');
        const out = values.out as string | undefined;
        if (!out) throw new StellaError('USAGE', 'bundle needs --out FILE');
        const b = readPolicyFile(path.resolve(ctx.cwd, args[0]!));
        blobs.put(b.bytes);
        writeFileAtomic(path.resolve(ctx.cwd, out), b.bytes);
        ctx.stdout.write(values.json ? JSON.stringify({ digest: b.digest, policy_set: b.policy.policy_set, out }) + '\n' : `${b.digest}\n`);
        return EXIT.OK;
      }
      case 'show': {
        if (args.length !== 1) throw new StellaError('USAGE', 'show needs one policy file or digest');
        const b = resolvePolicyRef(args[0]!, blobs, { cwd: ctx.cwd });
        if (values.json) ctx.stdout.write(b.bytes.toString('utf8') + '\n');
        else ctx.stdout.write(`${b.digest}  ${b.policy.policy_set}\n${JSON.stringify(b.policy, null, 2)}\n`);
        return EXIT.OK;
      }
      case 'diff': {
        if (args.length !== 2) throw new StellaError('USAGE', 'diff needs two policies (files or digests): A B');
        const a = resolvePolicyRef(args[0]!, blobs, { cwd: ctx.cwd });
        const b = resolvePolicyRef(args[1]!, blobs, { cwd: ctx.cwd });
        const changes = diffPolicies(a.policy, b.policy);
        if (values.json) ctx.stdout.write(JSON.stringify({ a: a.digest, b: b.digest, changes }) + '\n');
        else for (const c of changes) ctx.stdout.write(`${c.path}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}\n`);
        return changes.length ? EXIT.DIFFERS : EXIT.OK;
      }
      default:
        throw new StellaError('USAGE', 'expected bundle|show|diff (see stella policy --help)');
    }
  },
};
export default command;
