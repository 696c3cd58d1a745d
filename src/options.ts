/**
 * EvsNode options: defaults, evs4j aliases, and validation done once at start.
 * A bad value throws EvsError ERR_EVS_INVALID_OPTION naming the option and the
 * rule ("options.members[1].addr must be an IPv4 address (got 'x')").
 *
 * Totem timings use corosync's names in camelCase with units last and its
 * derivations (src/protocol/config.ts); evs4j's names are accepted as aliases.
 */
import { invalidOption } from './errors.ts';
import { integer, ipv4, nonEmptyString, oneOf, rejectUnknown } from './option-checks.ts';
import {
  clusterKeyBytesMax,
  clusterKeyBytesMin,
  cryptoThreadsMax,
  messageBytesMaxDefault,
  messageBytesMaxLimit,
  netmtuBytesMax,
  netmtuBytesMin,
  queueBytesMaxLimit,
  ringBytesMax,
  ringBytesMin,
  ringMessageSlackBytes,
  socketBufferBytesMax,
  socketBufferBytesMin,
  totemHoldMsMin,
  totemTimeoutMsMin,
} from './limits.ts';
import { deriveTotemConfig, orderings, totemConfigProblem, type TotemConfig, type TotemTimings } from './protocol/config.ts';

export interface MemberOption {
  readonly nodeId: number;
  readonly addr: string;
  readonly port?: number;
}

export interface ThreadOptions {
  /** 'split': a network worker and a protocol worker; 'single': both drivers in one worker. */
  readonly layout?: 'split' | 'single';
  /** AEAD in a piscina pool of this many threads (0 = inline in the network worker). */
  readonly cryptoThreads?: number;
  /**
   * Added to the runtime workers' nice value (0..19, Linux; elsewhere
   * ignored): the workers run at a lower OS priority than the main thread,
   * so the application's event loop is preferred when the CPUs are busy.
   */
  readonly workerNice?: number;
}

export interface RingOptions {
  readonly submitBytes?: number;
  readonly deliverBytes?: number;
  readonly rxBytes?: number;
  readonly txBytes?: number;
  /**
   * deliveries the protocol worker holds once the deliver ring is full (the
   * main thread is slow or blocked). Past it the node leaves the ring and
   * reports ERR_EVS_DELIVERY_OVERFLOW.
   */
  readonly deliverBacklogBytes?: number;
}

/** evs4j's option names, accepted as aliases of corosync's. */
export interface Evs4jAliases {
  readonly tokenLossTimeout?: number;
  readonly tokenDroppedTimeout?: number;
  readonly joinTimeout?: number;
  readonly consensusTimeout?: number;
  readonly maxWindow?: number;
  readonly failToReceive?: number;
}

export interface EvsNodeOptions {
  readonly nodeId: number;
  readonly transport?: 'udpu' | 'udp';
  /** IPv4 address to bind. */
  readonly bindAddr: string;
  readonly port?: number;
  /** udpu: every member (this node included). udp: optional, for member addresses. */
  readonly members?: readonly MemberOption[];
  /** udp: the multicast group, its port and TTL. */
  readonly mcastAddr?: string;
  readonly mcastPort?: number;
  readonly mcastTtl?: number;
  /** cluster key: a key file made by `keygen`, or the bytes. */
  readonly keyFile?: string;
  readonly key?: Uint8Array;
  /** 'none' is an explicit opt-out for measurement; it logs a warning. */
  readonly crypto?: 'aes-256-gcm' | 'none';
  /** where the ring seq is persisted (ringid_<nodeId>). */
  readonly stateDir: string;
  /**
   * bytes of a datagram including IP/UDP headers and AEAD overhead. Default:
   * the MTU of bindAddr's interface (65535 on loopback, 1500 on Ethernet),
   * 1500 when unknown.
   */
  readonly netmtu?: number;
  /**
   * bytes of a Totem frame, counted as netmtu counts a datagram (as if the
   * frame went as one). A frame larger than netmtu goes as several packets of
   * at most netmtu bytes each, reassembled by the receiver. Default 65535
   * (64 KiB frames on every network); the same on every node.
   */
  readonly frameBytesMax?: number;
  /**
   * 'auto' (default): a frame's packets leave with one sendmmsg() and UDP
   * segmentation offload when the native addon is there (Linux; shipped
   * built for x64); 'off': one send per packet with node:dgram. The wire is
   * the same either way.
   */
  readonly udpGso?: 'auto' | 'off';
  readonly sendBufferBytes?: number;
  readonly recvBufferBytes?: number;
  /** largest application payload. */
  readonly messageBytesMax?: number;
  /** the node's send-queue budget in bytes. */
  readonly queueBytesMax?: number;
  readonly totem?: TotemTimings & Evs4jAliases;
  readonly threads?: ThreadOptions;
  readonly rings?: RingOptions;
}

/**
 * What resolution needs to know about the host, probed by the runtime
 * (probeHost, src/runtime/network/interface-mtu.ts) so that validating
 * options reads no file and no interface list.
 */
export interface HostFacts {
  /** MTU of bindAddr's interface; null or absent when unknown (the netmtu default is then 1500). */
  readonly interfaceMtuBytes?: number | null;
}

export interface ResolvedMember {
  readonly nodeId: number;
  readonly addr: string;
  readonly port: number;
}

export interface ResolvedOptions {
  readonly nodeId: number;
  readonly transport: 'udpu' | 'udp';
  readonly bindAddr: string;
  readonly port: number;
  readonly members: readonly ResolvedMember[];
  readonly mcast: { readonly addr: string; readonly port: number; readonly ttl: number } | null;
  readonly crypto: 'aes-256-gcm' | 'none';
  readonly keyFile: string | null;
  readonly key: Uint8Array | null;
  readonly stateDir: string;
  readonly netmtu: number;
  readonly frameBytesMax: number;
  readonly udpGso: 'auto' | 'off';
  readonly sendBufferBytes: number;
  readonly recvBufferBytes: number;
  readonly messageBytesMax: number;
  readonly queueBytesMax: number;
  readonly totem: TotemConfig;
  readonly threads: { readonly layout: 'split' | 'single'; readonly cryptoThreads: number; readonly workerNice: number };
  readonly rings: Required<RingOptions>;
}

export const optionDefaults = {
  transport: 'udpu',
  port: 5405,
  mcastTtl: 1,
  crypto: 'aes-256-gcm',
  netmtu: 1500,
  frameBytesMax: 65535,
  udpGso: 'auto',
  /**
   * The runtime's token visit: Spread's Accelerated Ring, measured faster here
   * (1.26–1.51× the msgs/s of 'classic' at netmtu 1500, same self-delivery
   * latency; README "Performance"). The core's own default (config.ts, the
   * simulator's) stays Totem's classic visit.
   */
  ordering: 'accelerated',
  sendBufferBytes: 4 * 1024 * 1024,
  recvBufferBytes: 4 * 1024 * 1024,
  messageBytesMax: messageBytesMaxDefault,
  layout: 'single',
  cryptoThreads: 0,
  workerNice: 0,
  ringBytes: 4 * 1024 * 1024,
  deliverBacklogBytes: 256 * 1024 * 1024,
} as const;

const aliasOf: Readonly<Record<keyof Evs4jAliases, keyof TotemTimings>> = {
  tokenLossTimeout: 'tokenMs',
  tokenDroppedTimeout: 'tokenRetransmitMs',
  joinTimeout: 'joinMs',
  consensusTimeout: 'consensusMs',
  maxWindow: 'windowSize',
  failToReceive: 'failRecvConst',
};

const knownTop = new Set<string>([
  'nodeId', 'transport', 'bindAddr', 'port', 'members', 'mcastAddr', 'mcastPort', 'mcastTtl', 'keyFile', 'key',
  'crypto', 'stateDir', 'netmtu', 'frameBytesMax', 'udpGso', 'sendBufferBytes', 'recvBufferBytes', 'messageBytesMax', 'queueBytesMax',
  'totem', 'threads', 'rings',
]);
const knownTotem = new Set<string>([
  'tokenMs', 'tokenCoefficientMs', 'tokenRetransmitsBeforeLossConst', 'tokenRetransmitMs', 'holdMs', 'joinMs',
  'consensusMs', 'mergeMs', 'windowSize', 'maxMessages', 'windowSizeMin', 'missCountConst', 'failRecvConst', 'seqnoUnchangedConst',
  'seqStart', 'ordering', 'acceleratedWindow', ...Object.keys(aliasOf),
]);

/** corosync's MINIMUM_TIMEOUT (30 ms; hold 14 ms), checked on the given value before derivation. */
const timingMin: Readonly<Record<string, number>> = {
  tokenMs: totemTimeoutMsMin, tokenRetransmitMs: totemTimeoutMsMin, joinMs: totemTimeoutMsMin, consensusMs: totemTimeoutMsMin,
  mergeMs: totemTimeoutMsMin, holdMs: totemHoldMsMin,
};

function resolveMembers(o: EvsNodeOptions, port: number): ResolvedMember[] {
  if (o.members === undefined) return [];
  if (!Array.isArray(o.members)) throw invalidOption('members', 'must be an array of { nodeId, addr, port? }', o.members);
  const seenIds = new Set<number>();
  const seenEndpoints = new Set<string>();
  return o.members.map((m: MemberOption, i) => {
    if (typeof m !== 'object' || m === null) throw invalidOption(`members[${i}]`, 'must be an object { nodeId, addr, port? }', m);
    rejectUnknown(m, new Set(['nodeId', 'addr', 'port']), `members[${i}].`);
    const member = {
      nodeId: integer(`members[${i}].nodeId`, m.nodeId, 1, 0xffffffff),
      addr: ipv4(`members[${i}].addr`, m.addr),
      port: m.port === undefined ? port : integer(`members[${i}].port`, m.port, 1, 65535),
    };
    if (seenIds.has(member.nodeId)) throw invalidOption(`members[${i}].nodeId`, 'must be unique', member.nodeId);
    const endpoint = `${member.addr}:${member.port}`;
    if (seenEndpoints.has(endpoint)) throw invalidOption(`members[${i}]`, 'must have a unique addr:port', endpoint);
    seenIds.add(member.nodeId);
    seenEndpoints.add(endpoint);
    return member;
  });
}

function resolveTotem(o: EvsNodeOptions, nodeId: number, memberCount: number): TotemConfig {
  const given = o.totem ?? {};
  if (typeof given !== 'object' || given === null) throw invalidOption('totem', 'must be an object', given);
  rejectUnknown(given, knownTotem, 'totem.');
  const timings: Record<string, number | string> = {};
  for (const [key, value] of Object.entries(given)) {
    if (key === 'ordering') {
      timings[key] = oneOf('totem.ordering', value, orderings);
      continue;
    }
    const name = aliasOf[key as keyof Evs4jAliases] ?? key;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidOption(`totem.${key}`, 'must be a finite number', value);
    if (timings[name] !== undefined) throw invalidOption(`totem.${key}`, `is given twice (also as ${name} or its alias)`, value);
    const min = timingMin[name] ?? 0;
    if (value < min) throw invalidOption(`totem.${key}`, `must be a number >= ${min}`, value);
    timings[name] = value;
  }
  if (timings.ordering === undefined) timings.ordering = optionDefaults.ordering;
  let config = deriveTotemConfig(nodeId, Math.max(1, memberCount), timings as unknown as TotemTimings);
  // The derived retransmit interval (token / (retransmits + 0.2)) falls below the
  // timers' floor for tokens under ~306 ms with 10 retransmits: then fewer
  // retransmits fit in the token, and the interval is the floor (the simulator,
  // with no timer granularity, keeps corosync's derivation as it is).
  if (timings.tokenRetransmitMs === undefined && config.tokenRetransmitMs < totemTimeoutMsMin) {
    config = deriveTotemConfig(nodeId, Math.max(1, memberCount), { ...(timings as unknown as TotemTimings), tokenRetransmitMs: totemTimeoutMsMin });
  }
  const problem = totemConfigProblem(config);
  if (problem !== null) {
    const [name, ...rule] = problem.split(' ');
    throw invalidOption(`totem.${name ?? ''}`, rule.join(' ').replace(/ \(got .*\)$/, ''), config[name as keyof TotemConfig]);
  }
  return config;
}

function resolveRings(o: EvsNodeOptions, messageBytesMax: number): Required<RingOptions> {
  const r = o.rings ?? {};
  rejectUnknown(r, new Set(['submitBytes', 'deliverBytes', 'rxBytes', 'txBytes', 'deliverBacklogBytes']), 'rings.');
  const size = (name: keyof RingOptions): number => {
    const v = r[name];
    return v === undefined ? optionDefaults.ringBytes : integer(`rings.${name}`, v, ringBytesMin, ringBytesMax);
  };
  // A message crosses the submit and deliver rings as one record: they must hold the largest one.
  const messageRing = (name: 'submitBytes' | 'deliverBytes'): number => {
    const need = messageBytesMax + ringMessageSlackBytes;
    if (r[name] === undefined) return Math.max(optionDefaults.ringBytes, 2 * messageBytesMax + ringMessageSlackBytes);
    const v = size(name);
    if (v < need) throw invalidOption(`rings.${name}`, `must be at least messageBytesMax + ${ringMessageSlackBytes} = ${need}`, v);
    return v;
  };
  const backlog = r.deliverBacklogBytes === undefined ? optionDefaults.deliverBacklogBytes
    : integer('rings.deliverBacklogBytes', r.deliverBacklogBytes, 0, Number.MAX_SAFE_INTEGER);
  return {
    submitBytes: messageRing('submitBytes'), deliverBytes: messageRing('deliverBytes'), rxBytes: size('rxBytes'), txBytes: size('txBytes'),
    deliverBacklogBytes: backlog,
  };
}

function resolveCrypto(o: EvsNodeOptions): Pick<ResolvedOptions, 'crypto' | 'keyFile' | 'key'> {
  const crypto = o.crypto === undefined ? optionDefaults.crypto : oneOf('crypto', o.crypto, ['aes-256-gcm', 'none'] as const);
  const keyFile = o.keyFile === undefined ? null : nonEmptyString('keyFile', o.keyFile);
  const key = o.key === undefined ? null : o.key;
  if (key !== null && (!(key instanceof Uint8Array) || key.length < clusterKeyBytesMin || key.length > clusterKeyBytesMax)) {
    throw invalidOption('key', `must be a Uint8Array of ${clusterKeyBytesMin} to ${clusterKeyBytesMax} bytes`, key instanceof Uint8Array ? `${key.length} bytes` : typeof key);
  }
  if (keyFile !== null && key !== null) throw invalidOption('key', 'and options.keyFile are exclusive: give one', 'both');
  if (crypto !== 'none' && keyFile === null && key === null) {
    throw invalidOption('keyFile', "is required (or options.key) unless options.crypto is 'none'", undefined);
  }
  return { crypto, keyFile, key };
}

/**
 * Validate and complete options; throws EvsError ERR_EVS_INVALID_OPTION.
 * Pure: what it needs to know about the host comes in `host`.
 */
export function resolveOptions(o: EvsNodeOptions, host: HostFacts = {}): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw invalidOption('', 'must be an object', o);
  rejectUnknown(o, knownTop, '');
  const nodeId = integer('nodeId', o.nodeId, 1, 0xffffffff);
  const transport = o.transport === undefined ? optionDefaults.transport : oneOf('transport', o.transport, ['udpu', 'udp'] as const);
  const bindAddr = ipv4('bindAddr', o.bindAddr);
  const port = o.port === undefined ? optionDefaults.port : integer('port', o.port, 1, 65535);
  const members = resolveMembers(o, port);
  if (transport === 'udpu' && !members.some((m) => m.nodeId === nodeId)) {
    throw invalidOption('members', `must list this node (nodeId ${nodeId}) for transport 'udpu'`, members.map((m) => m.nodeId));
  }
  let mcast: ResolvedOptions['mcast'] = null;
  if (transport === 'udp') {
    const addr = ipv4('mcastAddr', o.mcastAddr);
    const first = Number(addr.split('.')[0]);
    if (first < 224 || first > 239) throw invalidOption('mcastAddr', 'must be a multicast address (224.0.0.0/4)', addr);
    mcast = {
      addr,
      port: o.mcastPort === undefined ? port : integer('mcastPort', o.mcastPort, 1, 65535),
      ttl: o.mcastTtl === undefined ? optionDefaults.mcastTtl : integer('mcastTtl', o.mcastTtl, 0, 255),
    };
  }
  const netmtu = o.netmtu === undefined ? defaultNetmtu(host) : integer('netmtu', o.netmtu, netmtuBytesMin, netmtuBytesMax);
  const messageBytesMax = o.messageBytesMax === undefined ? optionDefaults.messageBytesMax
    : integer('messageBytesMax', o.messageBytesMax, 1, messageBytesMaxLimit);
  const queueBytesMax = o.queueBytesMax === undefined ? 4 * messageBytesMax
    : integer('queueBytesMax', o.queueBytesMax, messageBytesMax, queueBytesMaxLimit);
  const threads = o.threads ?? {};
  rejectUnknown(threads, new Set(['layout', 'cryptoThreads', 'workerNice']), 'threads.');
  return {
    nodeId, transport, bindAddr, port, members, mcast, ...resolveCrypto(o),
    stateDir: nonEmptyString('stateDir', o.stateDir),
    netmtu,
    frameBytesMax: o.frameBytesMax === undefined ? optionDefaults.frameBytesMax : integer('frameBytesMax', o.frameBytesMax, netmtuBytesMin, netmtuBytesMax),
    udpGso: o.udpGso === undefined ? optionDefaults.udpGso : oneOf('udpGso', o.udpGso, ['auto', 'off'] as const),
    sendBufferBytes: o.sendBufferBytes === undefined ? optionDefaults.sendBufferBytes : integer('sendBufferBytes', o.sendBufferBytes, socketBufferBytesMin, socketBufferBytesMax),
    recvBufferBytes: o.recvBufferBytes === undefined ? optionDefaults.recvBufferBytes : integer('recvBufferBytes', o.recvBufferBytes, socketBufferBytesMin, socketBufferBytesMax),
    messageBytesMax,
    queueBytesMax,
    totem: resolveTotem(o, nodeId, transport === 'udpu' ? members.length : 1),
    threads: {
      layout: threads.layout === undefined ? optionDefaults.layout : oneOf('threads.layout', threads.layout, ['split', 'single'] as const),
      cryptoThreads: threads.cryptoThreads === undefined ? optionDefaults.cryptoThreads : integer('threads.cryptoThreads', threads.cryptoThreads, 0, cryptoThreadsMax),
      workerNice: threads.workerNice === undefined ? optionDefaults.workerNice : integer('threads.workerNice', threads.workerNice, 0, 19),
    },
    rings: resolveRings(o, messageBytesMax),
  };
}

/** the MTU of bindAddr's interface, capped at the largest IPv4 datagram; 1500 when unknown. */
function defaultNetmtu(host: HostFacts): number {
  return Math.min(netmtuBytesMax, Math.max(netmtuBytesMin, host.interfaceMtuBytes ?? optionDefaults.netmtu));
}

/**
 * Where the node's log lines go: any object with these four methods, called
 * pino-style as `logger.info(fields, message)` (`fields`: `{ nodeId, thread }`).
 * pino, bunyan-like loggers and `console` fit. The workers never write to
 * stderr: their lines cross to the main thread and are handed to this logger.
 */
export interface EvsLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** options.logger checked: an object with debug/info/warn/error functions, or undefined. */
export function checkLogger(value: unknown): EvsLogger | undefined {
  if (value === undefined) return undefined;
  const levels = ['debug', 'info', 'warn', 'error'] as const;
  const missing = typeof value === 'object' && value !== null
    ? levels.filter((l) => typeof (value as Record<string, unknown>)[l] !== 'function')
    : levels;
  if (missing.length > 0) throw invalidOption('logger', `must be an object with debug, info, warn and error methods (missing ${missing.join(', ')})`, typeof value);
  return value as EvsLogger;
}
