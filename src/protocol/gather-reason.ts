/** Why GATHER was entered: corosync's `enum gather_state_from`, same numbers, for comparable logs. */
export const GatherReason = {
  ConsensusTimeout: 0,
  TokenLostOperational: 2,
  ConsensusTimeoutExpired: 3,
  TokenLostCommit: 4,
  TokenLostRecovery: 5,
  FailedToReceive: 6,
  ForeignMessageOperational: 7,
  ForeignMessageGather: 8,
  MergeDuringOperational: 9,
  MergeDuringGather: 10,
  MergeDuringJoin: 11,
  JoinDuringOperational: 12,
  JoinDuringCommit: 13,
  JoinDuringRecovery: 14,
  InterfaceChange: 15,
} as const;
export type GatherReason = (typeof GatherReason)[keyof typeof GatherReason];

const texts: Record<number, string> = {
  0: 'consensus timeout',
  2: 'The token was lost in the OPERATIONAL state.',
  3: 'The consensus timeout expired.',
  4: 'The token was lost in the COMMIT state.',
  5: 'The token was lost in the RECOVERY state.',
  6: 'failed to receive',
  7: 'foreign message in operational state',
  8: 'foreign message in gather state',
  9: 'merge during operational state',
  10: 'merge during gather state',
  11: 'merge during join',
  12: 'join during operational state',
  13: 'join during commit state',
  14: 'join during recovery',
  15: 'interface change',
};

export function gatherReasonText(reason: GatherReason): string {
  return `${reason}(${texts[reason] ?? 'unknown'})`;
}
