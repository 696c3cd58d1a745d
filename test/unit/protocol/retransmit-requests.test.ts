/**
 * When a processor asks for a multicast it missed (token-visit.ts
 * `surelyLost`): a seq numbered before the token it forwarded two visits ago
 * goes on the retransmit list at that visit, not after `missCountConst`
 * visits. Three simulated processors, ring order 1 → 2 → 3; node 3 loses the
 * one copy of a message of node 2 and counts its own token visits until it
 * asks for it.
 */
import { describe, expect, it } from 'vitest';
import { Guarantee, MessageType } from '../../../src/wire/messages.ts';
import { makePayload } from '../../sim/app.ts';
import { checkSafety } from '../../sim/checkers.ts';
import { Cluster } from '../../sim/cluster.ts';

/** node 3's token visits from the loss of node 2's message to node 3's request for it. */
function visitsUntilRequest(missCountConst: number): number {
  const c = new Cluster({ nodeCount: 3, seed: 7, timings: { missCountConst } });
  expect(c.runUntil(() => c.converged(), 2000)).toBe(true);
  const totem = (): { tokensReceived: number; retransmitsRequested: number } => c.core(3).processor.stats;
  let tokensAtLoss: number | null = null;
  c.network.addFilter((p) => {
    if (tokensAtLoss !== null || p.to !== 3 || p.from !== 2 || p.message.type !== MessageType.Mcast) return false;
    tokensAtLoss = totem().tokensReceived;
    return true;
  });
  const requestedBefore = totem().retransmitsRequested;
  expect(c.submit(2, makePayload(2, 1, 100), Guarantee.Agreed)).toBe('ok');
  expect(c.runUntil(() => totem().retransmitsRequested > requestedBefore, 2000)).toBe(true);
  expect(tokensAtLoss).not.toBeNull();
  const visits = totem().tokensReceived - (tokensAtLoss ?? 0); // counted at the request, before the repair
  expect(c.runUntil(() => c.log.nodeRecords(3).some((r) => r.kind === 'deliver' && r.msgId === '2:1'), 2000)).toBe(true);
  expect(checkSafety(c.log.records)).toEqual([]);
  return visits;
}

describe('retransmission requests', () => {
  it('ask for a seq numbered before the token forwarded two visits ago at once', () => {
    // visit 1 sees the seq, visit 2's yardstick predates it, visit 3's covers it
    expect(visitsUntilRequest(5)).toBe(3);
  });

  it('wait missCountConst visits for a seq that may still be on its way, when that is fewer', () => {
    expect(visitsUntilRequest(2)).toBe(2);
  });
});
