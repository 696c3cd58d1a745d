/**
 * The conventions every `evs` command keeps: `--version`, help wrapped to the
 * terminal's width (commander left `evs node`'s and `evs cluster`'s help
 * unwrapped below ~125 columns: their longest flag leaves too little room
 * beside it), and nothing but help on stdout for --help.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { benchCommand } from '../../src/cli/bench/command.ts';
import { clusterCommand } from '../../src/cli/commands/cluster.ts';
import { wrapHelpToTerminal } from '../../src/cli/commands/help-format.ts';
import { keygenCommand } from '../../src/cli/commands/keygen.ts';
import { nodeCommand } from '../../src/cli/commands/node.ts';
import { evsRun } from './helpers.ts';

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function helpAt(command: Command, columns: number): string[] {
  wrapHelpToTerminal(command).configureOutput({ getOutHelpWidth: () => columns });
  return command.helpInformation().trimEnd().split('\n');
}

const commands: [string, () => Command][] = [['node', nodeCommand], ['cluster', clusterCommand], ['bench', benchCommand], ['keygen', keygenCommand]];

describe('evs --version', () => {
  it('prints the package version on stdout and exits 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await evsRun([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(manifest.version);
      expect(r.stderr).toBe('');
    }
  });
});

describe('help wrapped to the terminal', () => {
  for (const [name, make] of commands) {
    it(`evs ${name} --help fits 50, 80 and 120 columns and keeps every option`, () => {
      const options = make().options.map((o) => o.long!);
      for (const columns of [50, 80, 120]) {
        const lines = helpAt(make(), columns);
        expect(lines.filter((l) => l.length > columns), `${columns} columns`).toEqual([]);
        const text = lines.join('\n');
        for (const flag of options) expect(text).toContain(flag);
      }
    });
  }

  it('puts descriptions beside the options when there is room, below them when not', () => {
    const wide = helpAt(nodeCommand(), 160);
    expect(wide.some((l) => /^ {2}--token-ms <ms> +token loss timeout/.test(l))).toBe(true);
    const narrow = helpAt(nodeCommand(), 80);
    const at = narrow.findIndex((l) => l === '  --token-ms <ms>');
    expect(at).toBeGreaterThan(0);
    expect(narrow[at + 1]).toMatch(/^ {8}token loss timeout/);
  });

  it('off a terminal, as 80 columns (evs node --help from a real process)', async () => {
    const r = await evsRun(['node', '--help']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.length).toBeGreaterThan(40);
    expect(lines.filter((l) => l.length > 80)).toEqual([]);
  });
});
