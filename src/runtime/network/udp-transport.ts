/**
 * UDP transports (node:dgram), the only code that touches sockets:
 *
 *  - 'udpu': unicast fan-out to a static member list (corosync's UDPU). A
 *    "multicast" is one datagram per other member; datagrams from an address
 *    outside the list are dropped and counted (block_unlisted_ips).
 *  - 'udp': IP multicast to a group address on the interface of `bindAddr`
 *    (TTL 1 by default). Tokens still go by unicast to the next member.
 *
 * Datagrams are opaque here (sealed by the cipher above); the sender's node id
 * is resolved from its address for udpu, and left to the authenticated header
 * for udp (0 = unknown address).
 *
 * A run of a frame's packets (`sendRun`) goes with one sendmmsg() and UDP
 * segmentation offload when the native addon is there (native-gso.ts,
 * options.udpGso 'auto'), else packet by packet like any other datagram.
 */
import dgram from 'node:dgram';
import type { ResolvedOptions, ResolvedMember } from '../../options.ts';
import { nativeGso, socketFd, type SendSegments } from './native-gso.ts';

export type TransportOptions = Pick<ResolvedOptions,
  'nodeId' | 'transport' | 'bindAddr' | 'port' | 'members' | 'mcast' | 'sendBufferBytes' | 'recvBufferBytes' | 'udpGso'>;

export interface TransportStats {
  rxDatagrams: number;
  rxBytes: number;
  rxUnknownSource: number;
  /** own multicasts looped back by the kernel ('udp'), dropped unread. */
  rxOwnMulticast: number;
  /** datagrams of other nodes that arrived on the multicast group socket ('udp'; counted in rxDatagrams too). */
  rxMulticast: number;
  txDatagrams: number;
  /** datagrams sent to the multicast group ('udp'; counted in txDatagrams too). */
  txMulticast: number;
  txBytes: number;
  txErrors: number;
  /** runs of packets sent with one sendmmsg() (UDP segmentation offload). */
  txRuns: number;
  /** runs sent packet by packet instead: the socket's queue was not empty, or the kernel refused (EAGAIN, ...). */
  txRunFallbacks: number;
}

/** (datagram, node id of its source address or 0 when unknown for 'udp'). */
export type DatagramHandler = (datagram: Uint8Array, fromNodeId: number) => void;

function bindSocket(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/**
 * Addresses here are IPv4 literals (options.ts checks them): answered at
 * once. dgram's default, dns.lookup, answers a literal on the next tick, so
 * every datagram cost a closure, a tick and a deferred send.
 */
function literalLookup(address: string, _family: unknown, callback: (error: Error | null, address: string, family: number) => void): void {
  callback(null, address, 4);
}

/** close() waits at most this long for sends the socket has not completed. */
const sendDrainMsMax = 500;

export class UdpTransport {
  readonly stats: TransportStats = {
    rxDatagrams: 0, rxBytes: 0, rxUnknownSource: 0, rxOwnMulticast: 0, rxMulticast: 0, txDatagrams: 0, txMulticast: 0, txBytes: 0, txErrors: 0,
    txRuns: 0, txRunFallbacks: 0,
  };
  /** the native sendmmsg() and the unicast socket's fd, or null: packet by packet. */
  private gso: { readonly send: SendSegments; readonly fd: number } | null = null;
  /** why sendRun goes packet by packet ('on' when it does not). */
  gsoStatus = 'off (options.udpGso)';
  /** (ipv4, port) pairs of a multicast's destinations, and of each member, for the native send. */
  private readonly multicastDestinations: Uint32Array;
  private readonly memberDestinations = new Map<number, Uint32Array>();
  /** node ids by source address, then port (no string built per datagram). */
  private readonly byAddress = new Map<string, Map<number, number>>();
  private readonly byNodeId = new Map<number, ResolvedMember>();
  private readonly others: ResolvedMember[];
  private closed = false;
  /** sends handed to the socket whose callback has not run yet: close waits for them (a LEAVE must go out). */
  private sendsInFlight = 0;
  private sendsDrained: (() => void) | null = null;
  private readonly afterSend = (error: Error | null): void => {
    if (error !== null) this.stats.txErrors++;
    if (--this.sendsInFlight === 0 && this.sendsDrained !== null) this.sendsDrained();
  };

  private constructor(
    private readonly options: TransportOptions,
    private readonly unicast: dgram.Socket,
    private readonly group: dgram.Socket | null,
    private readonly onDatagram: DatagramHandler,
  ) {
    for (const m of options.members) {
      let ports = this.byAddress.get(m.addr);
      if (ports === undefined) this.byAddress.set(m.addr, ports = new Map());
      ports.set(m.port, m.nodeId);
      this.byNodeId.set(m.nodeId, m);
    }
    this.others = options.members.filter((m) => m.nodeId !== options.nodeId);
    for (const m of options.members) this.memberDestinations.set(m.nodeId, destinations([m]));
    this.multicastDestinations = options.transport === 'udp' && options.mcast !== null
      ? destinations([options.mcast]) : destinations(this.others);
    if (options.udpGso === 'auto') {
      const native = nativeGso();
      const fd = socketFd(unicast);
      if (native.sendSegments === null) this.gsoStatus = `off: native addon ${native.status}`;
      else if (fd === null) this.gsoStatus = "off: the socket's fd is not reachable";
      else {
        this.gso = { send: native.sendSegments, fd };
        this.gsoStatus = 'on';
      }
    }
    const receive = (message: Buffer, rinfo: dgram.RemoteInfo): void => this.receive(message, rinfo);
    unicast.on('message', receive);
    // The kernel loops our own multicasts back (needed for several nodes on one host); the core never needs them.
    group?.on('message', (message: Buffer, rinfo: dgram.RemoteInfo) => {
      if (rinfo.port === options.port && rinfo.address === options.bindAddr) {
        this.stats.rxOwnMulticast++;
        return;
      }
      this.stats.rxMulticast++;
      receive(message, rinfo);
    });
    const onError = (): void => { this.stats.txErrors++; };
    unicast.on('error', onError);
    group?.on('error', onError);
  }

  static async open(options: TransportOptions, onDatagram: DatagramHandler): Promise<UdpTransport> {
    const unicast = dgram.createSocket({ type: 'udp4', reuseAddr: false, lookup: literalLookup });
    await bindSocket(unicast, options.port, options.bindAddr);
    unicast.setRecvBufferSize(options.recvBufferBytes);
    unicast.setSendBufferSize(options.sendBufferBytes);
    let group: dgram.Socket | null = null;
    if (options.transport === 'udp') {
      const mcast = options.mcast;
      if (mcast === null) throw new Error('udp transport needs a multicast group');
      // Bound to the group address: a socket bound to 0.0.0.0 would also hear
      // other groups joined on the same port (IP_MULTICAST_ALL).
      group = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      await new Promise<void>((resolve, reject) => {
        group?.once('error', reject);
        group?.bind({ port: mcast.port, address: mcast.addr }, () => resolve());
      });
      group.addMembership(mcast.addr, options.bindAddr);
      group.setRecvBufferSize(options.recvBufferBytes);
      // Pin the outgoing interface: an unset one sends multicast out of the default route.
      unicast.setMulticastInterface(options.bindAddr);
      unicast.setMulticastTTL(mcast.ttl);
      unicast.setMulticastLoopback(true);
    }
    return new UdpTransport(options, unicast, group, onDatagram);
  }

  private receive(message: Buffer, rinfo: dgram.RemoteInfo): void {
    const nodeId = this.byAddress.get(rinfo.address)?.get(rinfo.port) ?? 0;
    if (nodeId === 0 && this.options.transport === 'udpu') {
      this.stats.rxUnknownSource++;
      return;
    }
    this.stats.rxDatagrams++;
    this.stats.rxBytes += message.length;
    this.onDatagram(message, nodeId);
  }

  /** unicast one datagram to a member (the token, or a self-addressed token). */
  sendTo(nodeId: number, datagram: Datagram): void {
    const member = this.byNodeId.get(nodeId);
    if (member === undefined) {
      this.stats.txErrors++;
      return;
    }
    this.sendRaw(datagram, member.port, member.addr);
  }

  /** to every other processor: a group datagram ('udp') or one per member ('udpu'). */
  multicast(datagram: Datagram): void {
    const mcast = this.options.mcast;
    if (this.options.transport === 'udp' && mcast !== null) {
      this.stats.txMulticast++;
      this.sendRaw(datagram, mcast.port, mcast.addr);
      return;
    }
    for (const member of this.others) this.sendRaw(datagram, member.port, member.addr);
  }

  /**
   * The packets of one frame, or a run of them, to `to` (0: every other
   * member), each a whole datagram of `segmentBytes` but the last (shorter or
   * equal). One sendmmsg() for all destinations when the native path is on
   * and the socket has nothing queued (it must not overtake node:dgram's
   * queue); packet by packet otherwise, and for the destinations the kernel
   * did not take. A kernel that refuses segmentation (not EAGAIN) turns the
   * native path off for good.
   */
  sendRun(to: number, packets: readonly Datagram[], segmentBytes: number): void {
    if (this.closed) return;
    const gso = this.gso;
    const all = to === 0 ? this.multicastDestinations : this.memberDestinations.get(to);
    let done = 0;
    if (gso !== null && all !== undefined && packets.length > 1 && this.unicast.getSendQueueCount() === 0) {
      const parts: Uint8Array[] = [];
      let bytes = 0;
      for (let i = 0; i < packets.length; i++) {
        const packet = packets[i]!;
        const size = datagramBytes(packet);
        // the kernel cuts the run every segmentBytes: a shorter packet before the last would shift every later one
        if (size > segmentBytes || (size < segmentBytes && i < packets.length - 1)) {
          throw new RangeError(`sendRun: packet ${i} of ${packets.length} has ${size} bytes; every one but the last must have ${segmentBytes}`);
        }
        if (packet instanceof Uint8Array) parts.push(packet);
        else for (const part of packet) parts.push(part);
        bytes += size;
      }
      const result = gso.send(gso.fd, segmentBytes, parts, all);
      if (result > 0) {
        done = result;
        const n = all.length / 2;
        this.stats.txRuns++;
        this.stats.txDatagrams += packets.length * done;
        this.stats.txBytes += bytes * done;
        if (to === 0 && this.options.transport === 'udp') this.stats.txMulticast += packets.length;
        if (done === n) return;
      } else if (result < 0 && result !== -11 /* EAGAIN */) {
        this.gso = null;
        this.gsoStatus = `off: the kernel refused a segmented send (errno ${-result})`;
      }
    }
    this.stats.txRunFallbacks++;
    if (to !== 0) {
      for (const packet of packets) this.sendTo(to, packet);
      return;
    }
    const mcast = this.options.mcast;
    if (this.options.transport === 'udp' && mcast !== null) {
      for (const packet of packets) this.multicast(packet);
      return;
    }
    for (const member of this.others.slice(done)) for (const packet of packets) this.sendRaw(packet, member.port, member.addr);
  }

  private sendRaw(datagram: Datagram, port: number, address: string): void {
    if (this.closed) return;
    this.stats.txDatagrams++;
    this.stats.txBytes += datagramBytes(datagram);
    this.sendsInFlight++;
    this.unicast.send(datagram, port, address, this.afterSend);
  }

  /** the address and port the unicast socket is bound to. */
  address(): { address: string; port: number } {
    const a = this.unicast.address();
    return { address: a.address, port: a.port };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sendsInFlight > 0) {
      await new Promise<void>((resolve) => {
        this.sendsDrained = resolve;
        setTimeout(resolve, sendDrainMsMax).unref();
      });
    }
    const closeSocket = (s: dgram.Socket): Promise<void> => new Promise((resolve) => s.close(() => resolve()));
    await closeSocket(this.unicast);
    if (this.group !== null) await closeSocket(this.group);
  }
}

/** (ipv4 as a host-order u32, port) pairs for sendSegments. */
function destinations(to: readonly { readonly addr: string; readonly port: number }[]): Uint32Array {
  const pairs = new Uint32Array(2 * to.length);
  to.forEach((d, i) => {
    pairs[2 * i] = d.addr.split('.').reduce((a, octet) => a * 256 + Number(octet), 0);
    pairs[2 * i + 1] = d.port;
  });
  return pairs;
}

/** one datagram: its bytes, or parts sent with one scatter/gather write. */
export type Datagram = Uint8Array | readonly Uint8Array[];

function datagramBytes(datagram: Datagram): number {
  if (datagram instanceof Uint8Array) return datagram.length;
  let bytes = 0;
  for (const part of datagram) bytes += part.length;
  return bytes;
}
