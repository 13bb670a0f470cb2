import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError, isStellaError } from '../core/errors.js';
import { BlobStore, assertDigest } from '../adapters/blob-store.js';
import { writeFileAtomic } from '../adapters/fs.js';

const command: Command = {
  name: 'blob',
  summary: 'put, get or check blobs in the content-addressed store',
  usage: 'blob put FILE… | get DIGEST [--out FILE] | has DIGEST | verify [DIGEST…]',
  options: { out: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: { out: 'get: write the blob here (atomically) instead of stdout', json: 'machine-readable output' },
  async run({ values, positionals }, ctx) {
    const [verb, ...args] = positionals;
    const store = BlobStore.fromEnv(ctx.env, ctx.cwd);
    switch (verb) {
      case 'put': {
        if (!args.length) throw new StellaError('USAGE', 'put needs at least one FILE');
        for (const f of args) ctx.stdout.write(`${await store.putFile(f)}  ${f}\n`);
        return EXIT.OK;
      }
      case 'get': {
        const [d] = args;
        if (!d) throw new StellaError('USAGE', 'get needs a DIGEST');
        assertDigest(d);
        const bytes = store.get(d);
        if (values.out) writeFileAtomic(values.out as string, bytes);
        else ctx.stdout.write(bytes);
        return EXIT.OK;
      }
      case 'has': {
        const [d] = args;
        if (!d) throw new StellaError('USAGE', 'has needs a DIGEST');
        assertDigest(d);
        const has = store.has(d);
        ctx.stdout.write(values.json ? JSON.stringify({ digest: d, present: has }) + '\n' : `${has ? 'present' : 'absent'}  ${d}\n`);
        return has ? EXIT.OK : EXIT.DIFFERS;
      }
      case 'verify': {
        const digests = args.length ? args : store.list();
        let bad = 0;
        for (const d of digests) {
          assertDigest(d);
          try {
            await store.verify(d);
          } catch (e) {
            if (!isStellaError(e)) throw e;
            bad++;
            ctx.stderr.write(`stella blob: ${e.oneLine()}\n`);
          }
        }
        if (values.json) ctx.stdout.write(JSON.stringify({ checked: digests.length, bad }) + '\n');
        else ctx.stdout.write(`${digests.length - bad}/${digests.length} blobs intact\n`);
        return bad ? EXIT.ERROR : EXIT.OK;
      }
      default:
        throw new StellaError('USAGE', 'expected put|get|has|verify (see stella blob --help)');
    }
  },
};
export default command;
