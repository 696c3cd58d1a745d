/** totem-evs: Extended Virtual Synchrony group messaging (Totem single ring) for Node.js. */
export { EvsNode, type EvsNodeStartOptions, type EvsNodeStats, type EvsLogger, type WaitForMembersOptions } from './node.ts';
export { EvsHandle } from './handle.ts';
export type { EvsDelivery, EvsConfchg, EvsEvent, McastOptions, JoinOptions, EventsOptions, GuaranteeName, Membership, RingId } from './types.ts';
export { EvsError, type EvsErrorCode } from './errors.ts';
export type { EvsNodeOptions, MemberOption, ThreadOptions, RingOptions } from './options.ts';
export { generateClusterKey, writeKeyFile, readKeyFile } from './runtime/crypto/keyfile.ts';
