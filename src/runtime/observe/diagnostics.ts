/**
 * `node:diagnostics_channel` channels of totem-evs, published on the main
 * thread from what the workers report (observe-messages.ts), as undici
 * publishes its `undici:*` channels. Subscribers get plain objects; nothing
 * is built when a channel has no subscriber. Payloads: docs/OBSERVABILITY.md.
 */
import diagnostics from 'node:diagnostics_channel';
import type { ObserveMessage } from './observe-messages.ts';

export const channelNames = {
  confchg: 'totem-evs:confchg',
  tokenLoss: 'totem-evs:token-loss',
  membershipRound: 'totem-evs:membership-round',
  retransmit: 'totem-evs:retransmit',
  datagramDropped: 'totem-evs:datagram-dropped',
} as const;

const channels = {
  confchg: diagnostics.channel(channelNames.confchg),
  'token-loss': diagnostics.channel(channelNames.tokenLoss),
  'membership-round': diagnostics.channel(channelNames.membershipRound),
  retransmit: diagnostics.channel(channelNames.retransmit),
  'datagram-dropped': diagnostics.channel(channelNames.datagramDropped),
};

/** publishes one worker report (other than a log line) on its channel, with the node's id first. */
export function publishObserved(nodeId: number, message: Exclude<ObserveMessage, { t: 'log' }>): void {
  const channel = channels[message.t];
  if (!channel.hasSubscribers) return;
  const { t: _t, ...payload } = message;
  channel.publish({ nodeId, ...payload });
}
