import path from 'node:path';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { BlobStore } from '../adapters/blob-store.js';
import { writeFileAtomic } from '../adapters/fs.js';
import { buildFeedBundle, diffFeedRecords, resolveFeedRef, type FeedSource } from '../app/feed.js';

/** `--source NAME=URL@commit:SHA` or `NAME=URL@etag:TAG`. */
function parseSource(spec: string): FeedSource {
  const m = /^([^=]+)=(.+)@(commit|etag):(.+)$/.exec(spec);
  if (!m) throw new StellaError('USAGE', `--source '${spec}' must look like NAME=URL@commit:SHA or NAME=URL@etag:TAG`);
  const [, name, url, kind, value] = m as unknown as [string, string, string, 'commit' | 'etag', string];
  return { name, url, retrieval: kind === 'commit' ? { commit: value } : { etag: value } };
}

const command: Command = {
  name: 'feed',
  summary: 'snapshot, verify, list or diff content-addressed feed bundles',
  usage: 'feed snapshot SRC_DIR --out BUNDLE.tar.zst [--generated-at T] [--source S]… | verify REF | ls REF [--json] | diff A B [--json]',
  options: {
    out: { type: 'string', short: 'o' },
    'generated-at': { type: 'string' },
    source: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  optionHelp: {
    out: 'snapshot: where to write the bundle (atomically)',
    'generated-at': 'snapshot: manifest generated_at (default: newest record `modified`)',
    source: 'snapshot: upstream source, NAME=URL@commit:SHA or NAME=URL@etag:TAG (repeatable)',
    json: 'machine-readable output',
  },
  async run({ values, positionals }, ctx) {
    const [verb, ...args] = positionals;
    const blobs = BlobStore.fromEnv(ctx.env, ctx.cwd);
    const json = values.json === true;
    switch (verb) {
      case 'snapshot': {
        const [src] = args;
        if (!src || args.length !== 1) throw new StellaError('USAGE', 'snapshot needs exactly one SRC_DIR');
        const out = values.out as string | undefined;
        if (!out) throw new StellaError('USAGE', 'snapshot needs --out BUNDLE.tar.zst');
        const sources = ((values.source as string[] | undefined) ?? []).map(parseSource);
        const built = await buildFeedBundle(path.resolve(ctx.cwd, src), {
          generatedAt: values['generated-at'] as string | undefined,
          sources,
        });
        blobs.put(built.bytes);
        writeFileAtomic(path.resolve(ctx.cwd, out), built.bytes);
        for (const d of built.duplicates) ctx.stderr.write(`stella feed: duplicate id ${d.id}: kept ${d.kept}, dropped ${d.dropped}\n`);
        if (json) {
          ctx.stdout.write(JSON.stringify({ digest: built.digest, records: Object.keys(built.manifest.files).length, out }) + '\n');
        } else {
          ctx.stdout.write(`${built.digest}\n`);
        }
        return EXIT.OK;
      }
      case 'verify': {
        const [ref] = args;
        if (!ref || args.length !== 1) throw new StellaError('USAGE', 'verify needs one BUNDLE file or digest');
        const b = await resolveFeedRef(ref, blobs, { cwd: ctx.cwd });
        if (json) ctx.stdout.write(JSON.stringify({ digest: b.digest, records: b.records.length, ok: true }) + '\n');
        else ctx.stdout.write(`ok  ${b.digest}  ${b.records.length} records\n`);
        return EXIT.OK;
      }
      case 'ls': {
        const [ref] = args;
        if (!ref || args.length !== 1) throw new StellaError('USAGE', 'ls needs one BUNDLE file or digest');
        const b = await resolveFeedRef(ref, blobs, { cwd: ctx.cwd });
        if (json) {
          const rows = b.records.map((r) => ({ id: r.record.id, path: r.path, sha256: r.sha256, modified: r.record.modified }));
          ctx.stdout.write(JSON.stringify({ digest: b.digest, manifest: { ...b.manifest, files: undefined }, records: rows }) + '\n');
        } else {
          const width = Math.max(0, ...b.records.map((r) => r.record.id.length));
          for (const r of b.records) ctx.stdout.write(`${r.record.id.padEnd(width)}  ${r.record.modified}  ${r.path}\n`);
        }
        return EXIT.OK;
      }
      case 'diff': {
        if (args.length !== 2) throw new StellaError('USAGE', 'diff needs two bundles (files or digests): A B');
        const a = await resolveFeedRef(args[0]!, blobs, { cwd: ctx.cwd });
        const b = await resolveFeedRef(args[1]!, blobs, { cwd: ctx.cwd });
        const d = diffFeedRecords(a.records, b.records);
        if (json) {
          ctx.stdout.write(JSON.stringify({ a: a.digest, b: b.digest, ...d }) + '\n');
        } else {
          for (const id of d.added) ctx.stdout.write(`+ ${id}\n`);
          for (const id of d.removed) ctx.stdout.write(`- ${id}\n`);
          for (const id of d.modified) ctx.stdout.write(`~ ${id}\n`);
          ctx.stderr.write(`${d.added.length} added, ${d.removed.length} removed, ${d.modified.length} modified\n`);
        }
        return d.added.length + d.removed.length + d.modified.length === 0 ? EXIT.OK : EXIT.DIFFERS;
      }
      default:
        throw new StellaError('USAGE', 'expected snapshot|verify|ls|diff (see stella feed --help)');
    }
  },
};
export default command;
