/**
 * Micro-benchmark of the pure core: N EvsCores (Totem processor + group layer)
 * driven by the simulator's packet network, with the real wire codec encoding
 * every datagram once and decoding it once per recipient. The network has no
 * loss and a fixed 1 µs delay (a delay of zero would freeze virtual time: the
 * token would circulate forever at t = 0). No I/O, no simulation log, no
 * checker: only the core, the codec and the event loop.
 *
 * Every node keeps its send queue full of 1 KB messages (each spans two
 * datagrams, so the group layer's packing and reassembly are in the
 * measurement). Over a fixed window of virtual time (a few ms: tens of
 * thousands of messages, a few hundred ms of wall time) we count application messages delivered at node 1 and ORF
 * token visits (rotations = visits / N), and divide by the wall time the window
 * took. Each configuration runs once to warm up the JIT, then 5 times; the table shows the median and the
 * min–max. The same runs with the codec bypassed (messages passed by reference,
 * tokens shallow-copied) show the codec's share.
 *
 *   npx tsx bench/core.bench.ts            (npm run bench:core)
 *
 * Measures, never asserts.
 */
import { performance } from 'node:perf_hooks';
import { EvsCore } from '../src/groups/evs-core.ts';
import { datagramPayloadBytes } from '../src/groups/format.ts';
import { encodeGroupName } from '../src/groups/match.ts';
import { deriveTotemConfig } from '../src/protocol/config.ts';
import { Guarantee, MessageType, type Message } from '../src/wire/messages.ts';
import { mcastHeaderBytes } from '../src/wire/header.ts';
import { simTimings, wireCodec } from '../test/sim/cluster.ts';
import { Network, type SimCodec } from '../test/sim/network.ts';
import { Prng } from '../test/sim/prng.ts';

const messageBytes = 1024;
const queueBytesMax = 256 * 1024;
const hopDelayMs = 0.001;
const runs = 5;
const group = encodeGroupName('bench');

/**
 * Codec bypass: `encode` parks the message in a slot table and returns its
 * 4-byte slot number; `decode` hands the same object back. Tokens are the one
 * message a receiver mutates (and the sender keeps for retransmission), so they
 * get a shallow copy; everything else is shared by reference.
 */
function passthroughCodec(): SimCodec {
  const slots = 1 << 16;
  const table: (Message | undefined)[] = new Array<Message | undefined>(slots);
  let next = 0;
  return {
    encode(message: Message): Uint8Array {
      const slot = next++ & (slots - 1);
      table[slot] = message;
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, slot, true);
      return bytes;
    },
    decode(bytes: Uint8Array): Message {
      const slot = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
      const message = table[slot];
      if (message === undefined) throw new Error(`passthrough codec: empty slot ${slot}`);
      if (message.type === MessageType.OrfToken) return { ...message, rtrList: [...message.rtrList] };
      if (message.type === MessageType.CommitToken) return { ...message, members: [...message.members], entries: message.entries.map((e) => ({ ...e })) };
      return message;
    },
  };
}

interface Sample {
  readonly delivered: number;
  readonly rotations: number;
  readonly wallMs: number;
  readonly virtualMs: number;
}

/** One run: form the ring, fill every queue, then measure `windowMs` of virtual time. */
function runOnce(nodeCount: number, windowMs: number, codec: SimCodec, seed: number): Sample {
  const ids = Array.from({ length: nodeCount }, (_, i) => i + 1);
  const prng = new Prng(seed);
  const link = { delayMinMs: hopDelayMs, delayJitterMs: 0, lossProbability: 0, duplicateProbability: 0 };
  const network = new Network({ prng, codec, nodes: ids, link, loopback: link });
  const payloadBytes = datagramPayloadBytes(1500, 0, mcastHeaderBytes);
  const payload = new Uint8Array(messageBytes).fill(0x5a);
  const cores = ids.map((id) => new EvsCore({
    config: deriveTotemConfig(id, nodeCount, simTimings),
    ringSeqLoaded: 0,
    datagramPayloadBytes: payloadBytes,
    messageBytesMax: 64 * 1024,
    queueBytesMax,
  }));
  const deadlines = new Array<number>(nodeCount).fill(Infinity);
  let now = 0;
  let counting = false;
  let delivered = 0;
  let operational = 0;

  const drain = (i: number): void => {
    const core = cores[i] as EvsCore;
    const ready = core.ready();
    for (const send of ready.sends) network.send(now, i + 1, send);
    for (const event of ready.events) {
      if (i === 0 && event.kind === 'deliver' && counting) delivered += 1;
    }
    deadlines[i] = core.nextDeadline();
  };
  const fill = (i: number): void => {
    const core = cores[i] as EvsCore;
    if (core.freeBytes() < queueBytesMax / 2) return;
    while (core.submit(now, [group], payload, Guarantee.Agreed) === 'ok') { /* keep the queue full */ }
    drain(i);
  };
  /** handle the earliest event (packet or timer); false when none is due by `end`. */
  const step = (end: number): boolean => {
    let timerNode = -1;
    let timerAt = Infinity;
    for (let i = 0; i < nodeCount; i++) {
      if ((deadlines[i] as number) < timerAt) {
        timerAt = deadlines[i] as number;
        timerNode = i;
      }
    }
    const packetAt = network.nextArrival();
    const at = Math.min(timerAt, packetAt);
    if (at > end) return false;
    now = Math.max(now, at);
    if (packetAt <= timerAt) {
      const arrival = network.pop();
      if (arrival === null) return false;
      const i = arrival.to - 1;
      (cores[i] as EvsCore).handleMessage(now, arrival.message);
      drain(i);
      if (operational === nodeCount) fill(i);
    } else {
      (cores[timerNode] as EvsCore).handleTimeout(now);
      drain(timerNode);
    }
    return true;
  };

  for (let i = 0; i < nodeCount; i++) {
    (cores[i] as EvsCore).start(now);
    drain(i);
  }
  // Form one ring of everyone (startup: singletons, then the merge).
  const formed = (): boolean => cores.every((c) => c.processor.state === 'operational' && c.processor.members.length === nodeCount);
  while (!formed()) if (!step(now + 10_000)) throw new Error('bench: the ring did not form');
  operational = nodeCount;
  for (let i = 0; i < nodeCount; i++) fill(i);
  // Warm up the pipeline for a tenth of the window, then measure.
  const warmEnd = now + windowMs / 10;
  while (step(warmEnd)) { /* warm-up */ }
  now = warmEnd;
  const tokensBefore = network.stats.arrivalsByType[MessageType.OrfToken] ?? 0;
  counting = true;
  const start = performance.now();
  const end = now + windowMs;
  while (step(end)) { /* measured window */ }
  const wallMs = performance.now() - start;
  const visits = (network.stats.arrivalsByType[MessageType.OrfToken] ?? 0) - tokensBefore;
  return { delivered, rotations: visits / nodeCount, wallMs, virtualMs: windowMs };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function fmt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

interface Row {
  readonly config: string;
  readonly nodes: number;
  readonly codec: 'wire' | 'bypass';
  readonly msgsPerSec: number[];
  readonly rotationsPerSec: number[];
  readonly samples: Sample[];
}

const configs: { nodes: number; windowMs: number }[] = [
  { nodes: 3, windowMs: 3 },
  { nodes: 16, windowMs: 5 },
];

const rows: Row[] = [];
for (const { nodes, windowMs } of configs) {
  for (const [name, make] of [['wire', () => wireCodec], ['bypass', passthroughCodec]] as const) {
    const samples: Sample[] = [];
    runOnce(nodes, windowMs, make(), 999); // JIT warm-up, not counted
    for (let r = 0; r < runs; r++) samples.push(runOnce(nodes, windowMs, make(), 1000 + r));
    rows.push({
      config: `${nodes} nodes, ${name} codec`,
      nodes,
      codec: name,
      msgsPerSec: samples.map((s) => (s.delivered * 1000) / s.wallMs),
      rotationsPerSec: samples.map((s) => (s.rotations * 1000) / s.wallMs),
      samples,
    });
  }
}

console.log(`core benchmark: ${messageBytes} B messages, queues kept full, no loss, ${hopDelayMs * 1000} µs per hop, ${runs} runs each`);
console.table(rows.map((r) => ({
  config: r.config,
  'msgs/s (median)': fmt(median(r.msgsPerSec)),
  'msgs/s (min–max)': `${fmt(Math.min(...r.msgsPerSec))}–${fmt(Math.max(...r.msgsPerSec))}`,
  'rotations/s (median)': fmt(median(r.rotationsPerSec)),
  'rotations/s (min–max)': `${fmt(Math.min(...r.rotationsPerSec))}–${fmt(Math.max(...r.rotationsPerSec))}`,
  'msgs/rotation': (median(r.samples.map((s) => s.delivered)) / median(r.samples.map((s) => s.rotations))).toFixed(1),
  'wall ms/run': Math.round(median(r.samples.map((s) => s.wallMs))),
})));
for (const nodes of configs.map((c) => c.nodes)) {
  const wire = rows.find((r) => r.nodes === nodes && r.codec === 'wire');
  const bypass = rows.find((r) => r.nodes === nodes && r.codec === 'bypass');
  if (wire !== undefined && bypass !== undefined) {
    const share = 1 - median(wire.msgsPerSec) / median(bypass.msgsPerSec);
    console.log(`${nodes} nodes: the wire codec costs ${(share * 100).toFixed(0)}% of the throughput without it`);
  }
}
console.log(JSON.stringify({
  bench: 'core',
  messageBytes,
  runs,
  results: rows.map((r) => ({
    nodes: r.nodes,
    codec: r.codec,
    msgsPerSec: { median: Math.round(median(r.msgsPerSec)), min: Math.round(Math.min(...r.msgsPerSec)), max: Math.round(Math.max(...r.msgsPerSec)) },
    rotationsPerSec: { median: Math.round(median(r.rotationsPerSec)), min: Math.round(Math.min(...r.rotationsPerSec)), max: Math.round(Math.max(...r.rotationsPerSec)) },
    virtualMs: r.samples[0]?.virtualMs,
    deliveredPerRun: r.samples.map((s) => s.delivered),
    rotationsPerRun: r.samples.map((s) => s.rotations),
  })),
}));
