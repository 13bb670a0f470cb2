// The `stella` executable (bin/stella.cts, CommonJS) answers `--help` and `--version` with text the build
// took from src/cli/main.ts, and hands everything else to the CLI's module entry: both ways must say the
// same thing, with the same exit codes, as the user runs it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, STELLA_BIN, runStella } from '../helpers/cli.js';
import { COMMANDS } from '../../src/cli/registry.js';

const ENTRY = path.join(REPO, 'dist/src/cli/entry.js');
const viaEntry = (args: string[]) => spawnSync(process.execPath, [ENTRY, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('the stella executable', () => {
  it('prints the same top help as the CLI entry, listing every registered command', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const r = await runStella([flag]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(viaEntry([flag]).stdout);
      for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c.name} +${c.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    }
  });

  it('prints the version the CLI entry prints', async () => {
    const r = await runStella(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^stella \d+\.\d+\.\d+\n$/);
    expect(r.stdout).toBe(viaEntry(['--version']).stdout);
  });

  it('hands commands, their help and errors to the CLI entry with its exit codes', async () => {
    const help = await runStella(['fidelity', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: stella fidelity /);
    const unknown = await runStella(['no-such-command']);
    expect(unknown.code).toBe(viaEntry(['no-such-command']).status);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toBe("stella: unknown command 'no-such-command' (see stella --help)\n");
    // Piped with no arguments, it prints the help (the entry decides: it looks at the terminal).
    const bare = spawnSync(process.execPath, [STELLA_BIN], { cwd: REPO, encoding: 'utf8', input: '' });
    expect(bare.status).toBe(0);
    expect(bare.stdout).toBe(viaEntry(['--help']).stdout);
  });
});
