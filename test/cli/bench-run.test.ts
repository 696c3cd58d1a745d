/**
 * `evs bench` for real, kept tiny: three node processes, two sizes for half
 * a second each. Checks the shape of what it prints and writes — never the
 * speed. Also latency mode with a small sample count, and Ctrl-C (SIGINT to
 * the bench alone) stopping every node process it started.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alive, evs, evsRun, stopAll, tempDir } from './helpers.ts';
import { parseXml, type XmlElement } from './bench-xml.ts';

const out = tempDir();
afterEach(() => stopAll());
afterAll(() => rmSync(out, { recursive: true, force: true }));

const evsbenchLine = /^\s*(\d+) Writes\s+(\d+) bytes per write\s+([\d.]+) Seconds runtime\s+([\d.]+) TP\/s\s+([\d.]+) MB\/s\.$/;

function descendants(e: XmlElement): XmlElement[] {
  return [e, ...e.children.flatMap(descendants)];
}

describe('evs bench throughput', () => {
  it('prints one evsbench line per size and writes the JSON and a well-formed SVG', async () => {
    const dir = join(out, 'tput');
    const r = await evsRun(['bench', '--sizes', '100,1000', '--duration', '0.5', '--warmup', '0.2', '--out', dir, '--port', '17110']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => evsbenchLine.test(l));
    expect(lines).toHaveLength(2);
    const parsed = lines.map((l) => evsbenchLine.exec(l)!.slice(1).map(Number));
    expect(parsed.map((p) => p[1])).toEqual([100, 1000]);
    // Shape, not speed: on a starved machine a 0.5 s window may see no write at all (measured: 0 under load).
    for (const [writes, , seconds, tps] of parsed) {
      expect(Number.isInteger(writes) && writes! >= 0).toBe(true);
      expect(seconds).toBeGreaterThan(0.3);
      expect(tps).toBeGreaterThanOrEqual(0);
    }
    expect(r.stdout).toMatch(/# agreement: 2 checks/);

    const json = JSON.parse(readFileSync(join(dir, 'throughput.json'), 'utf8')) as {
      mode: string; config: { sizesBytes: number[] }; agreement: { ok: boolean }; points: Record<string, unknown>[];
    };
    expect(json.mode).toBe('throughput');
    expect(json.config.sizesBytes).toEqual([100, 1000]);
    expect(json.agreement.ok).toBe(true);
    expect(json.points).toHaveLength(2);
    for (const p of json.points) {
      expect(p).toMatchObject({ mode: 'throughput', senders: 'one', guarantee: 'agreed', layout: 'single', crypto: true });
      for (const key of ['sizeBytes', 'cryptoThreads', 'writes', 'seconds', 'msgsPerSec', 'mbPerSec']) expect(typeof p[key]).toBe('number');
      expect(p.msgsPerSec).toBeGreaterThanOrEqual(0);
      expect(p.runs).toHaveLength(1);
    }

    const svg = parseXml(readFileSync(join(dir, 'throughput.svg'), 'utf8'));
    expect(svg.name).toBe('svg');
    const all = descendants(svg);
    const ofClass = (c: string): XmlElement[] => all.filter((e) => e.attributes.class === c);
    expect(ofClass('series')).toHaveLength(1);
    expect(ofClass('series')[0]!.children.filter((e) => e.name === 'circle')).toHaveLength(2);
    expect(ofClass('x-axis')).toHaveLength(1);
    expect(ofClass('y-axis')).toHaveLength(1);
    expect(ofClass('x-tick').length).toBeGreaterThanOrEqual(2);
    expect(ofClass('y-tick').length).toBeGreaterThanOrEqual(2);
    expect(ofClass('title')[0]!.text).toMatch(/throughput/);
    expect(ofClass('x-label')[0]!.text).toMatch(/message size/);
    expect(ofClass('legend')).toHaveLength(1);
  });
});

describe('evs bench latency', () => {
  it('prints the percentiles of a small sample', async () => {
    const dir = join(out, 'lat');
    const r = await evsRun(['bench', 'latency', '--samples', '200', '--warmup', '0.1', '--out', dir, '--port', '17120']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\s+100 B: 200 samples {2}p50 [\d,]+ µs {2}p90 [\d,]+ µs {2}p99 [\d,]+ µs {2}p99\.9 [\d,]+ µs/m);
    const json = JSON.parse(readFileSync(join(dir, 'latency.json'), 'utf8')) as { points: Record<string, unknown>[] };
    expect(json.points).toHaveLength(1);
    expect(json.points[0]).toMatchObject({ mode: 'latency', sizeBytes: 100, samples: 200 });
    expect(json.points[0]!.p50Us).toBeGreaterThan(0);
  });
});

describe('evs bench and Ctrl-C', () => {
  it('SIGINT stops every node process and exits 130', async () => {
    const bench = evs(['bench', '--sizes', '100', '--duration', '60', '--out', join(out, 'int'), '--port', '17130']);
    await bench.waitLine(/^# one sender/);
    // the node processes are the bench's children (fork)
    let children: number[] = [];
    for (let i = 0; i < 100 && children.length < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(bench.pid)], { encoding: 'utf8' }).split('\n').map(Number).filter((p) => p > 0);
    }
    expect(children).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // into the measurement
    bench.process.kill('SIGINT');
    expect(await bench.exited).toBe(130);
    expect(children.filter(alive)).toEqual([]);
  });
});
