/**
 * The command-line flags that set EvsNode options, one table: the flag, the
 * option path it sets (`totem.tokenMs`), and a help line with the default and
 * the unit. `evs node`, `evs cluster` and `evs bench` pick the groups they
 * need; node-options.ts turns the parsed values into EvsNodeStartOptions.
 *
 * No commander default values: a flag left out must stay undefined so a
 * config file's value (or the library's default) applies.
 */
import { Option, type Command } from 'commander';
import type { GuaranteeName } from '../../handle.ts';
import { optionDefaults } from '../../options.ts';
import { totemDefaults } from '../../protocol/config.ts';

export interface FlagSpec {
  /** commander's flag syntax, e.g. '--token-ms <ms>'. */
  readonly flags: string;
  /** the EvsNodeOptions path it sets, e.g. 'totem.tokenMs'; '' for flags mapped by hand (--members, --no-crypto). */
  readonly path: string;
  /** 'number': digits become a number; anything else is passed on as text for resolveOptions to reject by name. */
  readonly kind: 'number' | 'text';
  /** help line: what, default, unit. */
  readonly description: string;
  /** appended to an error about this flag. */
  readonly hint?: string;
}

const d = optionDefaults;
const t = totemDefaults;

export const identityFlags: readonly FlagSpec[] = [
  { flags: '--node-id <id>', path: 'nodeId', kind: 'number', description: "this node's id, 1..4294967295, unique in the cluster (required)" },
  {
    flags: '--members <list>', path: 'members', kind: 'text',
    description: 'every member, this node included, as id@addr[:port],... e.g. 1@127.0.0.1,2@127.0.0.2 (required for udpu; a member without :port uses --port)',
    hint: 'write it as id@addr[:port],... e.g. --members 1@127.0.0.1,2@127.0.0.2',
  },
  { flags: '--bind <addr>', path: 'bindAddr', kind: 'text', description: "IPv4 address to bind (default: this node's address in --members)" },
  { flags: '--state-dir <dir>', path: 'stateDir', kind: 'text', description: 'directory for the ring-seq file ringid_<id>, created if missing (required)', hint: 'e.g. --state-dir ./state1' },
];

export const portFlags: readonly FlagSpec[] = [
  { flags: '--port <port>', path: 'port', kind: 'number', description: `UDP port, 1..65535 (default: ${d.port}, or this node's :port in --members)` },
];

export const transportFlags: readonly FlagSpec[] = [
  { flags: '--transport <udpu|udp>', path: 'transport', kind: 'text', description: `udpu: unicast to every member; udp: IP multicast (default: ${d.transport})` },
  { flags: '--mcast-addr <addr>', path: 'mcastAddr', kind: 'text', description: 'udp: the multicast group, 224.0.0.0/4 (required for udp)' },
  { flags: '--mcast-port <port>', path: 'mcastPort', kind: 'number', description: 'udp: the multicast port (default: --port)' },
  { flags: '--mcast-ttl <hops>', path: 'mcastTtl', kind: 'number', description: `udp: multicast TTL, 0..255 (default: ${d.mcastTtl})` },
];

export const cryptoFlags: readonly FlagSpec[] = [
  {
    flags: '--key-file <file>', path: 'keyFile', kind: 'text', description: 'the cluster key, made by `evs keygen`, mode 0600 (required unless --no-crypto)',
    hint: 'make one with `evs keygen --out <file>` and give every node a copy, or pass --no-crypto',
  },
  { flags: '--no-crypto', path: '', kind: 'text', description: 'send datagrams unencrypted and unauthenticated (default: AES-256-GCM on every datagram)' },
];

export const sizeFlags: readonly FlagSpec[] = [
  { flags: '--netmtu <bytes>', path: 'netmtu', kind: 'number', description: `largest packet on the wire, counted with its IP/UDP headers: a Totem frame larger than this goes as several UDP datagrams of at most this, never IP fragments; 576..65535 (default: the MTU of --bind's interface, 65535 on loopback, else ${d.netmtu})` },
  { flags: '--udp-gso <auto|off>', path: 'udpGso', kind: 'text', description: `auto: a frame's packets leave in runs with one sendmmsg() (UDP GSO) when the native addon is built; off: one send per packet (default: ${d.udpGso})` },
  { flags: '--frame-bytes-max <bytes>', path: 'frameBytesMax', kind: 'number', description: `largest Totem frame, counted as --netmtu counts a packet, incl. 33 B of AEAD; cut into --netmtu packets; 576..65535 (default: ${d.frameBytesMax})` },
  { flags: '--message-bytes-max <bytes>', path: 'messageBytesMax', kind: 'number', description: `largest payload, the same on every node (default: ${d.messageBytesMax} B)` },
  { flags: '--queue-bytes-max <bytes>', path: 'queueBytesMax', kind: 'number', description: 'send-queue budget (default: 4 × --message-bytes-max)' },
  { flags: '--send-buffer-bytes <bytes>', path: 'sendBufferBytes', kind: 'number', description: `socket send buffer (default: ${d.sendBufferBytes} B)` },
  { flags: '--recv-buffer-bytes <bytes>', path: 'recvBufferBytes', kind: 'number', description: `socket receive buffer (default: ${d.recvBufferBytes} B)` },
];

export const threadFlags: readonly FlagSpec[] = [
  { flags: '--layout <split|single>', path: 'threads.layout', kind: 'text', description: `worker layout: split = network and protocol workers, single = one worker (default: ${d.layout})` },
  { flags: '--worker-nice <n>', path: 'threads.workerNice', kind: 'number', description: `added to the runtime workers' nice value, 0..19 (Linux): the main thread's event loop goes first on busy CPUs (default: ${d.workerNice})` },
  { flags: '--crypto-threads <n>', path: 'threads.cryptoThreads', kind: 'number', description: `AES-GCM in a pool of n threads, 0..16; 0 = inline in the network worker (default: ${d.cryptoThreads})` },
];

/** corosync's totem settings; derived ones say what they derive from. */
export const totemFlags: readonly FlagSpec[] = [
  { flags: '--token-ms <ms>', path: 'totem.tokenMs', kind: 'number', description: `token loss timeout (default: ${t.tokenMs} ms, + --token-coefficient-ms per node beyond 2)` },
  { flags: '--token-coefficient-ms <ms>', path: 'totem.tokenCoefficientMs', kind: 'number', description: `added to the token timeout per node beyond 2 (default: ${t.tokenCoefficientMs} ms)` },
  { flags: '--token-retransmits-before-loss-const <n>', path: 'totem.tokenRetransmitsBeforeLossConst', kind: 'number', description: `token retransmits before loss, sets --token-retransmit-ms (default: ${t.tokenRetransmitsBeforeLossConst})` },
  { flags: '--token-retransmit-ms <ms>', path: 'totem.tokenRetransmitMs', kind: 'number', description: 'resend the forwarded token after this (default: token / (retransmits + 0.2) ms)' },
  { flags: '--hold-ms <ms>', path: 'totem.holdMs', kind: 'number', description: "the representative's hold on an idle ring (default: retransmit × 0.8 − 10 ms)" },
  { flags: '--join-ms <ms>', path: 'totem.joinMs', kind: 'number', description: `JOIN resend period while gathering (default: ${t.joinMs} ms)` },
  { flags: '--consensus-ms <ms>', path: 'totem.consensusMs', kind: 'number', description: 'silent processors declared failed after this while gathering (default: 1.2 × token ms)' },
  { flags: '--merge-ms <ms>', path: 'totem.mergeMs', kind: 'number', description: `merge-detect period on an idle ring (default: ${t.mergeMs} ms)` },
  { flags: '--window-size <messages>', path: 'totem.windowSize', kind: 'number', description: `messages per token rotation, ring-wide (default: ${t.windowSize})` },
  { flags: '--max-messages <messages>', path: 'totem.maxMessages', kind: 'number', description: `messages per node per token visit (default: ${t.maxMessages})` },
  { flags: '--window-size-min <messages>', path: 'totem.windowSizeMin', kind: 'number', description: 'the congestion back-off\'s floor; = --window-size turns it off (default: max messages)' },
  { flags: '--miss-count-const <visits>', path: 'totem.missCountConst', kind: 'number', description: `token visits a seq is missing before it is requested; one numbered two visits back is requested at once (default: ${t.missCountConst})` },
  { flags: '--fail-recv-const <visits>', path: 'totem.failRecvConst', kind: 'number', description: `token visits without progress before FAILED TO RECEIVE (default: ${t.failRecvConst})` },
  { flags: '--ordering <classic|accelerated>', path: 'totem.ordering', kind: 'text', description: `token visit: classic, or accelerated = part of a visit's new messages after the token (Spread's Accelerated Ring); every node the same (default: ${d.ordering})` },
  { flags: '--accelerated-window <messages>', path: 'totem.acceleratedWindow', kind: 'number', description: `accelerated: new messages per visit sent after the token, 0..--max-messages (default: min(${t.acceleratedWindow}, --max-messages))` },
  { flags: '--seqno-unchanged-const <visits>', path: 'totem.seqnoUnchangedConst', kind: 'number', description: `idle token visits before the token is held (default: ${t.seqnoUnchangedConst})` },
];

/** the choices of --guarantee (lines sent from stdin). */
export const guarantees: readonly GuaranteeName[] = ['agreed', 'safe'];

/** every flag that sets a node option. */
export const nodeFlags: readonly FlagSpec[] = [
  ...identityFlags, ...portFlags, ...transportFlags, ...cryptoFlags, ...sizeFlags, ...threadFlags, ...totemFlags,
];

/** the name commander stores a flag's value under ('--token-ms <ms>' → 'tokenMs', '--no-crypto' → 'crypto'). */
export function attributeOf(spec: FlagSpec): string {
  return new Option(spec.flags).attributeName();
}

/** the flag alone ('--token-ms'). */
export function flagName(spec: FlagSpec): string {
  return spec.flags.split(' ')[0] ?? spec.flags;
}

export function addFlags(command: Command, specs: readonly FlagSpec[], heading?: string): Command {
  if (heading !== undefined) command.optionsGroup(heading);
  for (const spec of specs) command.addOption(new Option(spec.flags, spec.description));
  return command;
}

/**
 * `evs node` only, not EvsNode options: a Prometheus endpoint
 * (src/runtime/observe/metrics-server.ts), bound to 127.0.0.1 unless
 * --metrics-addr says otherwise.
 */
export function addMetricsFlags(command: Command): Command {
  return command
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://<metrics-addr>:<port>/metrics, 0 = any free port (default: off)')
    .option('--metrics-addr <addr>', 'address of the metrics endpoint (default: 127.0.0.1)');
}

/** --metrics-port as a number, null when absent; a message naming the flag otherwise. */
export function metricsPortOf(value: unknown): number | null {
  if (value === undefined) return null;
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new Error(`--metrics-port must be a port number 0..65535 (got ${String(value)})`);
  return port;
}
