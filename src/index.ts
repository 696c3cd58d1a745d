/** totem-evs: Extended Virtual Synchrony group messaging (Totem single ring) for Node.js. */
export { EvsNode, type EvsNodeStartOptions, type EvsNodeStats } from './node.ts';
export { EvsHandle, type EvsDelivery, type EvsConfchg, type EvsEvent, type McastOptions, type GuaranteeName } from './handle.ts';
export { EvsError, type EvsErrorCode } from './errors.ts';
export type { EvsNodeOptions, MemberOption, ThreadOptions, RingOptions } from './options.ts';
export type { Membership } from './runtime/protocol/protocol-driver.ts';
export type { RingId } from './wire/messages.ts';
export { generateClusterKey, writeKeyFile, readKeyFile } from './runtime/crypto/keyfile.ts';
