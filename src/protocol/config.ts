/**
 * Totem timers and knobs: corosync's names in camelCase with units last, and
 * corosync's derivations (totemconfig.c `totem_volatile_config_read`).
 */
import { assert } from '../assert.ts';
import { holdMsMin, timeoutMsMin, windowSizeMax } from '../limits.ts';

/**
 * How a token visit sends its new messages. 'classic': all before the token
 * (Totem, corosync). 'accelerated': Spread's Accelerated Ring (token-visit.ts):
 * the last `acceleratedWindow` of them right after the token. Every member of
 * a ring must use the same ordering (the wire header carries it).
 */
export type Ordering = 'classic' | 'accelerated';
export const orderings: readonly Ordering[] = ['classic', 'accelerated'];

export interface TotemConfig {
  /** this processor's node id (uint32, never 0). */
  readonly nodeId: number;
  /** token loss timeout; also the COMMIT and RECOVERY timeout. */
  readonly tokenMs: number;
  /** re-send the forwarded token when it has not come back after this long. */
  readonly tokenRetransmitMs: number;
  /** the representative holds the token this long on an idle ring. */
  readonly holdMs: number;
  /** JOIN resend period in GATHER. */
  readonly joinMs: number;
  /** in GATHER, processors silent for this long are declared failed. */
  readonly consensusMs: number;
  /** idle-ring merge-detect period. */
  readonly mergeMs: number;
  /** ring-wide messages (new + retransmitted) per rotation. */
  readonly windowSize: number;
  /** messages one processor may send per token visit. */
  readonly maxMessages: number;
  /**
   * the floor of the congestion back-off: a processor's own window shrinks
   * towards it when a rotation shows a loss and grows back to windowSize
   * (token-visit.ts `adaptWindow`); equal to windowSize turns the back-off off.
   */
  readonly windowSizeMin: number;
  /** visits a seq must be seen missing before it is requested. */
  readonly missCountConst: number;
  /** visits without aru progress before FAILED TO RECEIVE. */
  readonly failRecvConst: number;
  /** idle visits before the token is held. */
  readonly seqnoUnchangedConst: number;
  /** test hook (corosync SEQNO_START_MSG): first seq of every ring is seqStart + 1. */
  readonly seqStart: number;
  /** 'classic' or 'accelerated' (Spread's Accelerated Ring). */
  readonly ordering: Ordering;
  /** accelerated: how many of a visit's new messages go out right after the token (0..maxMessages). */
  readonly acceleratedWindow: number;
}

export interface TotemTimings {
  tokenMs?: number;
  tokenCoefficientMs?: number;
  tokenRetransmitsBeforeLossConst?: number;
  tokenRetransmitMs?: number;
  holdMs?: number;
  joinMs?: number;
  consensusMs?: number;
  mergeMs?: number;
  windowSize?: number;
  maxMessages?: number;
  windowSizeMin?: number;
  missCountConst?: number;
  failRecvConst?: number;
  seqnoUnchangedConst?: number;
  seqStart?: number;
  ordering?: Ordering;
  acceleratedWindow?: number;
}

/**
 * corosync 3.1 defaults before derivation, but for
 * tokenRetransmitsBeforeLossConst: 10, not 4 (DEVIATION, docs/DEVIATIONS.md:
 * the token timeout covers a whole rotation, and at 30% loss on 8 links 4
 * retransmit periods per timeout are not enough for one).
 */
export const totemDefaults = {
  tokenMs: 3000,
  tokenCoefficientMs: 650,
  tokenRetransmitsBeforeLossConst: 10,
  joinMs: 50,
  mergeMs: 200,
  windowSize: 50,
  maxMessages: 17,
  missCountConst: 5,
  failRecvConst: 2500,
  seqnoUnchangedConst: 30,
  seqStart: 0,
  ordering: 'classic',
  /** Spread's default; capped at maxMessages when that is smaller. */
  acceleratedWindow: 15,
} as const;

/**
 * Derive a full config the way corosync does: token (+ coefficient per node
 * beyond two) → token_retransmit = token / (retransmits + 0.2) → hold =
 * retransmit × 0.8 − 10 → consensus = 1.2 × token. Explicit values win.
 */
export function deriveTotemConfig(nodeId: number, memberCount: number, t: TotemTimings = {}): TotemConfig {
  assert(Number.isInteger(nodeId) && nodeId > 0 && nodeId <= 0xffffffff, 'nodeId is a uint32 above 0');
  const coefficientMs = t.tokenCoefficientMs ?? totemDefaults.tokenCoefficientMs;
  const baseTokenMs = t.tokenMs ?? totemDefaults.tokenMs;
  const tokenMs = memberCount >= 3 ? baseTokenMs + (memberCount - 2) * coefficientMs : baseTokenMs;
  const retransmits = t.tokenRetransmitsBeforeLossConst ?? totemDefaults.tokenRetransmitsBeforeLossConst;
  const tokenRetransmitMs = t.tokenRetransmitMs ?? Math.floor(tokenMs / (retransmits + 0.2));
  const holdMs = t.holdMs ?? Math.max(holdMsMin, Math.floor(tokenRetransmitMs * 0.8 - 10));
  const consensusMs = t.consensusMs ?? Math.floor(1.2 * tokenMs);
  const config: TotemConfig = {
    nodeId,
    tokenMs,
    tokenRetransmitMs,
    holdMs,
    joinMs: t.joinMs ?? totemDefaults.joinMs,
    consensusMs,
    mergeMs: t.mergeMs ?? totemDefaults.mergeMs,
    windowSize: t.windowSize ?? totemDefaults.windowSize,
    maxMessages: t.maxMessages ?? totemDefaults.maxMessages,
    // the back-off stops where one processor could still send a full visit
    windowSizeMin: t.windowSizeMin ?? Math.min(t.maxMessages ?? totemDefaults.maxMessages, t.windowSize ?? totemDefaults.windowSize),
    missCountConst: t.missCountConst ?? totemDefaults.missCountConst,
    failRecvConst: t.failRecvConst ?? totemDefaults.failRecvConst,
    seqnoUnchangedConst: t.seqnoUnchangedConst ?? totemDefaults.seqnoUnchangedConst,
    seqStart: t.seqStart ?? totemDefaults.seqStart,
    ordering: t.ordering ?? totemDefaults.ordering,
    acceleratedWindow: t.acceleratedWindow ?? Math.min(totemDefaults.acceleratedWindow, t.maxMessages ?? totemDefaults.maxMessages),
  };
  return config;
}

/** Returns the first rule the config breaks, naming the option, or null. */
export function totemConfigProblem(c: TotemConfig): string | null {
  const timeouts: [string, number][] = [
    ['tokenMs', c.tokenMs], ['tokenRetransmitMs', c.tokenRetransmitMs], ['joinMs', c.joinMs],
    ['consensusMs', c.consensusMs], ['mergeMs', c.mergeMs],
  ];
  for (const [name, value] of timeouts) {
    if (!Number.isFinite(value) || value < timeoutMsMin) return `${name} must be a number >= ${timeoutMsMin} (got ${value})`;
  }
  if (!Number.isFinite(c.holdMs) || c.holdMs < holdMsMin) return `holdMs must be a number >= ${holdMsMin} (got ${c.holdMs})`;
  if (c.consensusMs < c.joinMs) return `consensusMs must be >= joinMs (${c.consensusMs} < ${c.joinMs})`;
  if (c.tokenRetransmitMs >= c.tokenMs) return `tokenRetransmitMs must be < tokenMs (${c.tokenRetransmitMs} >= ${c.tokenMs})`;
  const counts: [string, number, number][] = [
    ['windowSize', c.windowSize, 1], ['maxMessages', c.maxMessages, 1], ['missCountConst', c.missCountConst, 1],
    ['failRecvConst', c.failRecvConst, 1], ['seqnoUnchangedConst', c.seqnoUnchangedConst, 1],
  ];
  for (const [name, value, min] of counts) {
    if (!Number.isInteger(value) || value < min) return `${name} must be an integer >= ${min} (got ${value})`;
  }
  if (c.maxMessages > c.windowSize) return `maxMessages must be <= windowSize (${c.maxMessages} > ${c.windowSize})`;
  if (!Number.isInteger(c.windowSizeMin) || c.windowSizeMin < 1 || c.windowSizeMin > c.windowSize) {
    return `windowSizeMin must be an integer from 1 to windowSize (${c.windowSize}) (got ${c.windowSizeMin})`;
  }
  if (c.windowSize > windowSizeMax) return `windowSize must be <= ${windowSizeMax} (got ${c.windowSize})`;
  if (!orderings.includes(c.ordering)) return `ordering must be one of ${orderings.map((o) => `'${o}'`).join(', ')} (got ${String(c.ordering)})`;
  if (!Number.isInteger(c.acceleratedWindow) || c.acceleratedWindow < 0 || c.acceleratedWindow > c.maxMessages) {
    return `acceleratedWindow must be an integer from 0 to maxMessages (${c.maxMessages}) (got ${c.acceleratedWindow})`;
  }
  if (!Number.isInteger(c.seqStart) || c.seqStart < 0 || c.seqStart > 0xffffffff) return `seqStart must be a uint32 (got ${c.seqStart})`;
  return null;
}
