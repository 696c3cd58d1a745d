/** Helpers for the group-layer tests: simulate the core's ordered delivery. */
import type { ConfchgEvent, DeliverEvent, Outgoing } from '../../../src/protocol/ready.ts';
import type { RingId } from '../../../src/wire/messages.ts';
import type { AppMessage, GroupReceiver } from '../../../src/groups/receiver.ts';
import type { GroupSender } from '../../../src/groups/sender.ts';

export const ring1: RingId = { rep: 1, seq: 4 };
export const ring2: RingId = { rep: 1, seq: 8 };

export const g = new TextEncoder().encode('g');

/** Deterministic payload: byte i = (i * 31 + salt) & 0xff. */
export function bytes(length: number, salt = 0): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + salt) & 0xff;
  return b;
}

/** Every datagram the sender makes now. */
export function drain(sender: GroupSender): Outgoing[] {
  const out: Outgoing[] = [];
  for (let d = sender.next(); d !== null; d = sender.next()) out.push(d);
  return out;
}

/** Numbers datagrams in delivery order, as the core would (seq 1, 2, ... per ring). */
export class Orderer {
  seq = 0;
  constructor(
    public ringId: RingId = ring1,
    readonly sender = 7,
  ) {}

  event(d: Outgoing, sender = this.sender): DeliverEvent {
    this.seq += 1;
    return { kind: 'deliver', sender, ringId: this.ringId, seq: this.seq, guarantee: d.guarantee, payload: d.payload };
  }
}

/** Feed datagrams to a receiver in order; returns the messages it completed. */
export function feed(receiver: GroupReceiver, events: readonly DeliverEvent[]): AppMessage[] {
  const messages: AppMessage[] = [];
  for (const ev of events) receiver.onDeliver(ev, (m) => messages.push(m));
  return messages;
}

export function confchg(type: 'transitional' | 'regular', ringId: RingId = ring2, fromRingId: RingId = ring1): ConfchgEvent {
  return { kind: 'confchg', type, ringId, fromRingId, members: [1, 7], left: [], joined: [] };
}

/** Byte equality that stays fast for MiB-sized arrays (toEqual walks them element by element). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
