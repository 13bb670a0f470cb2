// `stella index DIR…`: ingest scan and replay records into the SQLite index. Idempotent; a bad
// record is reported (one line: file, JSON path, reason) and skipped; exit 2 if any was skipped.
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import type { ProgressEvent } from '../core/ports.js';
import { openAnyStore } from '../../store/open.js';
import { indexRecords } from '../app/indexer.js';
import { storePath } from '../app/store-path.js';
import path from 'node:path';

const command: Command = {
  name: 'index',
  summary: 'ingest scan and replay records into the index (SQLite or PostgreSQL)',
  usage: 'index DIR… [--db FILE|URL] [--json]',
  options: { db: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: { db: 'index file or postgres:// URL (default $STELLA_DB, else $STELLA_HOME/index.db, else ./.stella/index.db)', json: 'print the summary as JSON' },
  async run({ values, positionals }, ctx) {
    if (positionals.length === 0) throw new StellaError('USAGE', 'index needs at least one DIR (see stella index --help)');
    const store = await openAnyStore(storePath(ctx.env, ctx.cwd, values.db as string | undefined));
    const tty = Boolean(ctx.stderr.isTTY);
    const onEvent = (e: ProgressEvent) => {
      if (e.kind === 'log') ctx.stderr.write(`${tty ? '\r\x1b[K' : ''}stella index: ${e.message}\n`);
      else if (e.kind === 'progress' && tty) {
        const width = 30;
        const filled = e.total ? Math.round((e.done / e.total) * width) : width;
        ctx.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${e.done}/${e.total} records`);
      } else if (e.kind === 'finish' && tty) ctx.stderr.write('\n');
    };
    let summary;
    try {
      summary = await indexRecords(
        store,
        positionals.map((p) => path.resolve(ctx.cwd, p)),
        onEvent,
      );
    } finally {
      await store.close();
    }
    if (values.json) {
      ctx.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    } else {
      const s = summary;
      ctx.stdout.write(
        `indexed ${s.records} records: replays ${s.replays.inserted} new, ${s.replays.updated} updated, ${s.replays.unchanged} unchanged; ` +
          `scans ${s.scans.inserted} new, ${s.scans.updated} updated, ${s.scans.unchanged} unchanged; ${s.skipped.length} skipped\n`,
      );
    }
    return summary.skipped.length ? EXIT.ERROR : EXIT.OK;
  },
};

export default command;
