// `stella image build | load ID | id`: the deterministic scanner image (SPEC §3).
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { usageError } from './command.js';
import { BlobStore } from '../adapters/blob-store.js';
import { engineFromEnv } from '../adapters/docker/engine.js';
import { buildScannerImage, loadScannerImage, scannerImageId } from '../app/image.js';

const command: Command = {
  name: 'image',
  summary: 'build or load the deterministic scanner image',
  usage: 'image build [--no-load] [--json] | image load IMAGE_ID [--json] | image id',
  options: {
    json: { type: 'boolean' },
    'no-load': { type: 'boolean' },
  },
  optionHelp: {
    json: 'print the image record as JSON',
    'no-load': 'build: keep the archive in the blob store only, do not `docker load` it',
  },
  async run(args, ctx) {
    const [sub, ...rest] = args.positionals;
    const blobs = BlobStore.fromEnv(ctx.env, ctx.cwd);
    const json = args.values.json === true;
    switch (sub) {
      case 'build': {
        if (rest.length) throw usageError(`image build takes no arguments, got '${rest[0]}'`);
        const engine = args.values['no-load'] === true ? null : engineFromEnv(ctx.env);
        const r = await buildScannerImage({ blobs, engine });
        ctx.stdout.write(json ? JSON.stringify(r, null, 2) + '\n' : `${r.image_id}\n`);
        if (!json) ctx.stderr.write(`archive ${r.archive_digest} (${r.archive_bytes} bytes) stored; ${r.loaded ? `loaded as ${r.tag}` : 'not loaded'}\n`);
        return EXIT.OK;
      }
      case 'load': {
        if (rest.length !== 1) throw usageError('usage: stella image load IMAGE_ID');
        const r = await loadScannerImage(rest[0], { blobs, engine: engineFromEnv(ctx.env) });
        ctx.stdout.write(json ? JSON.stringify(r, null, 2) + '\n' : `${r.image_id}\n`);
        if (!json) ctx.stderr.write(r.already || !r.record ? 'already loaded\n' : `loaded ${r.record.tag} from ${r.record.archive_digest}\n`);
        return EXIT.OK;
      }
      case 'id': {
        if (rest.length) throw usageError(`image id takes no arguments, got '${rest[0]}'`);
        const id = scannerImageId({ blobs });
        ctx.stdout.write(json ? JSON.stringify({ image_id: id }) + '\n' : `${id}\n`);
        return EXIT.OK;
      }
      default:
        throw usageError(sub === undefined ? 'image needs a subcommand: build, load IMAGE_ID or id' : `unknown image subcommand '${sub}' (build, load, id)`);
    }
  },
};

export default command;
