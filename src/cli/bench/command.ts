/**
 * `evs bench [mode]`: the runtime benchmark as a command (docs/BENCH.md).
 * This file only declares the options and turns them into a BenchConfig;
 * run.ts runs the chosen mode.
 *
 * Exit codes: 0 done; 1 the run failed or found an ordering violation;
 * 2 a bad option (one line on stderr naming it); 130/143 interrupted.
 */
import { Argument, Command, Option, type CommanderError } from 'commander';
import { optionDefaults } from '../../options.ts';
import { orderings, totemDefaults, type Ordering } from '../../protocol/config.ts';
import { benchModes, type BenchConfig, type BenchMode } from './bench-config.ts';
import { integerIn, ipv4, ipv4List, nameList, secondsToMs, sizeList } from './option-parsers.ts';
import { runBench } from './run.ts';
import { checkConfig } from './check-config.ts';

/** sizes per mode when --sizes is not given. */
export const defaultSizesBytes: Readonly<Record<BenchMode, readonly number[]>> = {
  throughput: Array.from({ length: 13 }, (_, i) => (i + 1) * 100),
  sweep: [100, 1300],
  latency: [100],
  failover: [100],
  eventloop: [100],
};

const messageBytesLimit = 64 * 1024 * 1024;

interface RawOptions {
  nodes: number; sizes?: number[]; senders: 'one' | 'all'; guarantee: 'agreed' | 'safe';
  duration: number; count?: number; warmup: number; runs?: number; samples: number; crypto: boolean;
  transport: 'udpu' | 'udp'; mcastAddr: string; port: number; layout?: 'split' | 'single'; cryptoThreads?: number; workerNice?: number;
  tokenMs?: number; tokenCoefficientMs?: number; consensusMs?: number; joinMs?: number; windowSize?: number;
  maxMessages?: number; windowSizeMin?: number; ordering?: Ordering; acceleratedWindow?: number; netmtu?: number; frameBytesMax?: number; udpGso?: 'auto' | 'off'; addresses?: string[]; netns?: string[]; out: string; progress?: boolean;
  burstMs: number; burstPeriodMs: number; chart: 'msgs' | 'mb';
}

/** commander shows no default for an undefined one: say it in the description. */
function described(option: Option, defaultText: string): Option {
  option.description = `${option.description} (default: ${defaultText})`;
  return option;
}

function options(): Option[] {
  const lib = (value: number | string): string => `the library's, now ${value}`;
  return [
    new Option('--nodes <count>', 'node processes').default(3).argParser(integerIn(1, 64)),
    described(new Option('--sizes <list>', 'message sizes in bytes, comma-separated; 10k/10KB = 10,000 B, 1m/1MB = 1,000,000 B, KiB/MiB binary')
      .argParser(sizeList(16, messageBytesLimit)), 'throughput 100,200,...,1300; sweep 100,1300; others 100'),
    new Option('--senders <who>', 'nodes that send: node 1, or every node').choices(['one', 'all']).default('one'),
    new Option('--guarantee <order>', 'delivery order').choices(['agreed', 'safe']).default('agreed'),
    new Option('--duration <seconds>', 'measured time per size and run, in seconds').default(4000, '4').argParser(secondsToMs(0.1, 3600)),
    described(new Option('--count <messages>', 'instead of --duration: messages per sender per size and run, timed at the receiver')
      .argParser(integerIn(1, 1e9)).conflicts('duration'), 'none: --duration'),
    new Option('--warmup <seconds>', 'load before each measured window, in seconds').default(1000, '1').argParser(secondsToMs(0, 600)),
    described(new Option('--runs <n>', 'repeat each point n times and report the median').argParser(integerIn(1, 1000)), 'failover 5, others 1'),
    new Option('--samples <n>', 'latency: messages timed per size, one in flight').default(5000).argParser(integerIn(10, 1e7)),
    new Option('--no-crypto', "send datagrams unencrypted and unauthenticated (crypto 'none') (default: AES-256-GCM on)"),
    new Option('--transport <kind>', 'udpu (unicast) or udp (IP multicast; only with --netns)').choices(['udpu', 'udp']).default('udpu'),
    new Option('--mcast-addr <address>', 'udp: the multicast group').default('239.192.77.1').argParser(ipv4),
    new Option('--port <port>', 'UDP port of every node').default(15405).argParser(integerIn(1, 65535)),
    described(new Option('--layout <layout>', 'worker layout: split (network + protocol workers) or single (one worker)')
      .choices(['split', 'single']), lib(optionDefaults.layout)),
    described(new Option('--crypto-threads <n>', 'AES-GCM pool threads, 0: inline in the network worker').argParser(integerIn(0, 16)),
      lib(optionDefaults.cryptoThreads)),
    described(new Option('--worker-nice <n>', "added to the runtime workers' nice value, 0..19 (Linux)").argParser(integerIn(0, 19)),
      lib(optionDefaults.workerNice)),
    described(new Option('--token-ms <ms>', 'token loss timeout, in ms').argParser(integerIn(30, 600_000)), lib(totemDefaults.tokenMs)),
    described(new Option('--token-coefficient-ms <ms>', 'token timeout added per node beyond two, in ms').argParser(integerIn(0, 600_000)),
      lib(totemDefaults.tokenCoefficientMs)),
    described(new Option('--consensus-ms <ms>', 'consensus timeout, in ms').argParser(integerIn(30, 600_000)), "the library's, 1.2 × token"),
    described(new Option('--join-ms <ms>', 'JOIN resend period, in ms').argParser(integerIn(30, 600_000)), lib(totemDefaults.joinMs)),
    described(new Option('--window-size <messages>', 'messages per token rotation, ring-wide').argParser(integerIn(1, 1e6)), lib(totemDefaults.windowSize)),
    described(new Option('--max-messages <messages>', 'messages per node per token visit').argParser(integerIn(1, 1e6)), lib(totemDefaults.maxMessages)),
    described(new Option('--window-size-min <messages>', "the congestion back-off's floor; = window size turns it off").argParser(integerIn(1, 1e6)),
      "the library's, max messages"),
    described(new Option('--ordering <ordering>', 'token visit: classic, or accelerated (part of the new messages after the token)')
      .choices(orderings), lib(optionDefaults.ordering)),
    described(new Option('--accelerated-window <messages>', 'accelerated: new messages per visit sent after the token, 0..max messages')
      .argParser(integerIn(0, 1e6)), `the library's, min(${totemDefaults.acceleratedWindow}, max messages)`),
    described(new Option('--netmtu <bytes>', 'largest packet incl. IP/UDP headers, in bytes: larger Totem frames go as several UDP datagrams').argParser(integerIn(576, 65535)),
      "the library's: the MTU of the nodes' interface, 65535 on loopback"),
    described(new Option('--frame-bytes-max <bytes>', 'largest Totem frame incl. AEAD overhead, counted as --netmtu counts a packet, in bytes').argParser(integerIn(576, 65535)),
      lib(optionDefaults.frameBytesMax)),
    described(new Option('--udp-gso <mode>', "auto: a frame's packets leave in runs with one sendmmsg() (UDP GSO) when the native addon is built; off: one send per packet")
      .choices(['auto', 'off']), lib(optionDefaults.udpGso)),
    described(new Option('--addresses <list>', 'bind/member IPv4 address of node 1,2,..., comma-separated').argParser(ipv4List), '127.0.0.1,127.0.0.2,...'),
    described(new Option('--netns <list>', 'start node i inside network namespace i (ip netns exec; root; needs --addresses)')
      .argParser(nameList), 'none: all nodes here'),
    new Option('--out <dir>', 'directory for <mode>.json and <mode>.svg').default('./evs-bench-results'),
    described(new Option('--progress', 'show the progress bar on stderr also when stderr is not a terminal'), 'only on a terminal'),
    new Option('--burst-ms <ms>', 'eventloop: the main thread is busy this long, in ms, ...').default(10).argParser(integerIn(1, 10_000)),
    new Option('--burst-period-ms <ms>', '... once every this many ms').default(20).argParser(integerIn(2, 60_000)),
    new Option('--chart <metric>', 'y axis of the charts: msgs (messages/s) or mb (MB/s)').choices(['msgs', 'mb']).default('msgs'),
  ];
}

function toConfig(mode: BenchMode, o: RawOptions): BenchConfig {
  const totem = {
    ...(o.tokenMs === undefined ? {} : { tokenMs: o.tokenMs }),
    ...(o.tokenCoefficientMs === undefined ? {} : { tokenCoefficientMs: o.tokenCoefficientMs }),
    ...(o.consensusMs === undefined ? {} : { consensusMs: o.consensusMs }),
    ...(o.joinMs === undefined ? {} : { joinMs: o.joinMs }),
    ...(o.windowSize === undefined ? {} : { windowSize: o.windowSize }),
    ...(o.maxMessages === undefined ? {} : { maxMessages: o.maxMessages }),
    ...(o.windowSizeMin === undefined ? {} : { windowSizeMin: o.windowSizeMin }),
    ...(o.ordering === undefined ? {} : { ordering: o.ordering }),
    ...(o.acceleratedWindow === undefined ? {} : { acceleratedWindow: o.acceleratedWindow }),
  };
  return {
    mode, nodes: o.nodes, sizesBytes: o.sizes ?? defaultSizesBytes[mode], senders: o.senders, guarantee: o.guarantee,
    load: o.count === undefined ? { kind: 'duration', durationMs: o.duration } : { kind: 'count', count: o.count },
    warmupMs: o.warmup, runs: o.runs ?? (mode === 'failover' ? 5 : 1), samples: o.samples, crypto: o.crypto,
    transport: o.transport, mcastAddr: o.mcastAddr, port: o.port, layout: o.layout, cryptoThreads: o.cryptoThreads,
    netmtu: o.netmtu, frameBytesMax: o.frameBytesMax, udpGso: o.udpGso, workerNice: o.workerNice, totem,
    addresses: o.addresses ?? Array.from({ length: o.nodes }, (_, i) => `127.0.0.${i + 1}`),
    netns: o.netns ?? null, outDir: o.out, progress: o.progress === true || process.stderr.isTTY === true,
    burstMs: o.burstMs, burstPeriodMs: o.burstPeriodMs, chartMetric: o.chart,
  };
}

export function benchCommand(): Command {
  const command = new Command('bench')
    .description('measure a real cluster of node processes: throughput (evsbench lines), latency, failover, eventloop, sweep')
    .addArgument(new Argument('[mode]', 'what to measure').choices(benchModes).default('throughput'))
    // every usage error (commander's or ours) exits 2; help exits 0
    .exitOverride((error: CommanderError) => process.exit(error.exitCode === 0 ? 0 : 2))
    .action(async (mode: BenchMode, raw: RawOptions) => {
      const config = toConfig(mode, raw);
      const problem = checkConfig(config);
      if (problem !== null) command.error(`error: option '${problem.option}': ${problem.message}`, { exitCode: 2 });
      process.exitCode = await runBench(config);
    });
  for (const option of options()) command.addOption(option);
  return command;
}
