/**
 * The congestion back-off (token-visit.ts `adaptWindow`) in the simulator:
 * a clean ring never backs off, in either ordering; one lost message is one
 * back-off per processor however long its repair takes; a lossy stretch
 * shrinks every window towards windowSizeMin and a clean one grows it back to
 * windowSize. Every run ends with the EVS checkers over the whole log.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster.ts';
import { MessageType } from '../../src/wire/messages.ts';
import type { TotemTimings } from '../../src/protocol/config.ts';
import { App, expectConverged, expectDeliveredEverywhere, expectSafety } from './helpers.ts';

const nodes = [1, 2, 3, 4];
const flow = { windowSize: 40, maxMessages: 10 } as const;

/** every 10 ms each node submits `count` 1400-byte messages (one datagram each): the ring stays busy. */
function load(cluster: Cluster, app: App, ms: number, count = 6, sample?: () => void): void {
  const end = cluster.now + ms;
  while (cluster.now < end) {
    for (const id of nodes) for (let i = 0; i < count; i++) app.send(id, { size: 1400 });
    cluster.runFor(10);
    sample?.();
  }
}

function start(timings: TotemTimings, seed: number): { cluster: Cluster; app: App } {
  const cluster = new Cluster({ nodeCount: nodes.length, seed, timings });
  const app = new App(cluster);
  expectConverged(cluster, nodes, 2000);
  return { cluster, app };
}

const stats = (cluster: Cluster, id: number) => cluster.core(id).processor.stats;

describe.each(['classic', 'accelerated'] as const)('congestion back-off, %s ordering', (ordering) => {
  const timings: TotemTimings = { ...flow, ordering };

  it('a clean ring under full load never backs off and keeps the whole window', () => {
    const { cluster, app } = start(timings, 9101);
    load(cluster, app, 1000);
    for (const id of nodes) {
      expect(stats(cluster, id).mcastsSent).toBeGreaterThan(500);
      expect(stats(cluster, id).congestionBackoffs).toBe(0);
      expect(stats(cluster, id).window).toBe(flow.windowSize);
    }
    expectDeliveredEverywhere(cluster, nodes, app.accepted.map((a) => a.msgId), 3000);
    expectSafety(cluster);
  });

  it('one lost message is one back-off per processor, however many visits its repair takes', () => {
    const { cluster, app } = start(timings, 9102);
    load(cluster, app, 300);
    // drop the first new MCAST from node 1 to node 3, once: node 3 asks for it after missCountConst visits
    let dropped = false;
    cluster.network.addFilter((p) => {
      if (dropped || p.from !== 1 || p.to !== 3 || p.message.type !== MessageType.Mcast) return false;
      dropped = true;
      return true;
    });
    load(cluster, app, 700);
    expect(dropped).toBe(true);
    for (const id of nodes) expect(stats(cluster, id).congestionBackoffs).toBe(1);
    expect(stats(cluster, 3).retransmitsRequested).toBeGreaterThanOrEqual(1);
    expectDeliveredEverywhere(cluster, nodes, app.accepted.map((a) => a.msgId), 3000);
    expectSafety(cluster);
  });

  it('a lossy stretch shrinks every window to the floor; a clean one grows it back to windowSize', () => {
    const { cluster, app } = start(timings, 9103);
    load(cluster, app, 200);
    const lowest = new Map<number, number>(nodes.map((id) => [id, flow.windowSize]));
    const sample = (): void => {
      for (const id of nodes) lowest.set(id, Math.min(lowest.get(id) ?? 0, stats(cluster, id).window));
    };
    // 10% of the MCASTs to node 4 lost for 600 ms: a receiver that keeps missing
    const loss = cluster.network.addFilter((p) => p.to === 4 && p.message.type === MessageType.Mcast && cluster.prng.chance(0.1));
    load(cluster, app, 600, 6, sample);
    cluster.network.removeFilter(loss);
    for (const id of nodes) {
      expect(stats(cluster, id).congestionBackoffs).toBeGreaterThanOrEqual(2);
      // windowSizeMin defaults to maxMessages
      expect(lowest.get(id)).toBe(flow.maxMessages);
    }
    load(cluster, app, 1000);
    for (const id of nodes) expect(stats(cluster, id).window).toBe(flow.windowSize);
    expectDeliveredEverywhere(cluster, nodes, app.accepted.map((a) => a.msgId), 5000);
    expectSafety(cluster);
  });

  it('windowSizeMin = windowSize turns the back-off off', () => {
    const { cluster, app } = start({ ...timings, windowSizeMin: flow.windowSize }, 9104);
    const loss = cluster.network.addFilter((p) => p.to === 4 && p.message.type === MessageType.Mcast && cluster.prng.chance(0.1));
    load(cluster, app, 600);
    cluster.network.removeFilter(loss);
    for (const id of nodes) {
      expect(stats(cluster, id).congestionBackoffs).toBe(0);
      expect(stats(cluster, id).window).toBe(flow.windowSize);
    }
    expect(stats(cluster, 4).retransmitsRequested).toBeGreaterThan(0);
    expectDeliveredEverywhere(cluster, nodes, app.accepted.map((a) => a.msgId), 5000);
    expectSafety(cluster);
  });
});
