/**
 * `evs bench` options: --help lists every option with its default, and a
 * bad option exits 2 with one line on stderr naming it, before any node
 * process starts. Also the pure pieces the options rely on (sizes).
 */
import { describe, expect, it } from 'vitest';
import { benchCommand } from '../../src/cli/bench/command.ts';
import { formatSize, parseSize, parseSizeList } from '../../src/cli/bench/sizes.ts';
import { evsRun } from './helpers.ts';

describe('evs bench --help', () => {
  it('lists every option, each with a default', async () => {
    const r = await evsRun(['bench', '--help']);
    expect(r.code).toBe(0);
    const flags = benchCommand().options.map((o) => o.long!);
    expect(flags.length).toBeGreaterThan(25);
    for (const flag of flags) expect(r.stdout).toContain(flag);
    for (const flag of ['--nodes', '--sizes', '--senders', '--guarantee', '--duration', '--count', '--runs', '--no-crypto', '--transport', '--layout',
      '--crypto-threads', '--token-ms', '--consensus-ms', '--window-size', '--max-messages', '--ordering', '--accelerated-window', '--netmtu', '--frame-bytes-max', '--out', '--netns', '--addresses']) {
      expect(flags).toContain(flag);
    }
    // every option's help says its default (commander wraps lines, so count them)
    expect(r.stdout.match(/default:/g)?.length).toBeGreaterThanOrEqual(flags.length);
    expect(r.stdout).toMatch(/throughput.*latency.*failover.*eventloop.*sweep/s);
  });
});

describe('evs bench: a bad option exits 2 naming it', () => {
  const cases: [string[], RegExp][] = [
    [['--nodes', 'three'], /--nodes/],
    [['--sizes', '100,10q'], /--sizes.*10q/],
    [['--sizes', '8'], /--sizes/],
    [['--senders', 'some'], /--senders/],
    [['--frobnicate'], /--frobnicate/],
    [['--transport', 'udp'], /--transport.*--netns.*default route/],
    [['--addresses', '127.0.0.1,127.0.0.2'], /--addresses.*2 addresses for 3 nodes/],
    [['--netns', 'a,b,c'], /--netns.*--addresses/],
    [['--duration', '1', '--count', '10'], /--count.*--duration|--duration.*--count/],
    [['--token-ms', '20'], /--token-ms/],
    [['--frame-bytes-max', '100'], /--frame-bytes-max/],
    [['--consensus-ms', '40'], /--consensus-ms/],
    [['--ordering', 'fast'], /--ordering/],
    [['--ordering', 'accelerated', '--accelerated-window', '30'], /--accelerated-window.*maxMessages \(17\)/],
    [['latency', '--samples', 'many'], /--samples/],
    [['fastest'], /fastest/],
  ];
  for (const [args, named] of cases) {
    it(args.join(' '), async () => {
      const r = await evsRun(['bench', ...args, '--port', '17990']);
      expect(r.code).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(named);
      expect(r.stdout).toBe('');
    });
  }
});

describe('sizes', () => {
  it('parses bytes and units', () => {
    expect(parseSizeList('100,1300,10k,10KB,100k,1m,1MB,64KiB,1MiB')).toEqual([100, 1300, 10_000, 10_000, 100_000, 1_000_000, 1_000_000, 65_536, 1_048_576]);
    expect(parseSize('1.5k')).toBe(1500);
    expect(parseSize('10q')).toBeNull();
    expect(parseSize('')).toBeNull();
    expect(() => parseSizeList('100,,200')).toThrow(/'' is not a size/);
  });
  it('formats labels', () => {
    expect([100, 1300, 10_000, 1_000_000].map(formatSize)).toEqual(['100 B', '1.3 kB', '10 kB', '1 MB']);
  });
});
