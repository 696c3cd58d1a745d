/** Counters a Processor keeps; cheap to read from a driver for `stats()`. */
export class ProcessorStats {
  tokensReceived = 0;
  tokenDuplicates = 0;
  tokenRetransmits = 0;
  tokenLosses = 0;
  mcastsSent = 0;
  mcastsReceived = 0;
  mcastsDropped = 0;
  duplicatesDropped = 0;
  foreignDropped = 0;
  staleDropped = 0;
  retransmitsSent = 0;
  retransmitsRequested = 0;
  /** visits that halved my window (token-visit.ts `adaptWindow`). */
  congestionBackoffs = 0;
  /** my flow-control window now (a gauge, set on each visit). */
  window = 0;
  joinsReceived = 0;
  commitTokensReceived = 0;
  gatherEntered = 0;
  commitEntered = 0;
  ringsInstalled = 0;
  failedToReceive = 0;
  /** pauses a driver reported (Processor.paused). */
  pausesDetected = 0;
  delivered = 0;
}
