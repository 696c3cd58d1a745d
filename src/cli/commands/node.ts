/**
 * `evs node`: one EVS node from flags and/or a JSON config file, like openais'
 * `testevs`: it prints every configuration change and every delivery, and
 * multicasts each line typed on stdin to the groups it joined.
 *
 * stdin reaching EOF does not stop it (it runs as well under a process
 * manager with stdin closed) unless --exit-on-eof is given (then it exits 0);
 * SIGINT and SIGTERM stop it gracefully (a LEAVE goes out) and it exits 130
 * or 143. Configuration changes and deliveries are its data (stdout); the
 * line saying where it is bound is status (stderr).
 */
import { Command, Option } from 'commander';
import { createInterface } from 'node:readline';
import { EvsNode } from '../../node.ts';
import type { EvsHandle, GuaranteeName } from '../../handle.ts';
import { UsageError, exitOnCommanderError, failAndExit, messageOf } from './cli-error.ts';
import { readConfigFile } from './config-file.ts';
import {
  addFlags, addMetricsFlags, cryptoFlags, guarantees, metricsPortOf, identityFlags, nodeFlags, portFlags, sizeFlags, threadFlags, totemFlags, transportFlags,
} from './node-flags.ts';
import { checkStartOptions, explainStartError, parseGroups, startOptionsFrom, type OptionSources } from './node-options.ts';
import { epochMs } from '../epoch-clock.ts';
import { formatConfchg, formatDelivery, jsonConfchg, jsonDelivery } from './node-output.ts';
import { onStopSignal, signalExitCode } from './stop-signal.ts';
import { serveMetrics, type MetricsServer } from '../../runtime/observe/metrics-server.ts';

const defaultGroups = ['evs'];

interface NodeCommandFlags {
  readonly config?: string;
  readonly groups?: string;
  readonly guarantee?: GuaranteeName;
  readonly exitOnEof?: boolean;
  readonly debug?: boolean;
  readonly json?: boolean;
  readonly [flag: string]: unknown;
}

export function nodeCommand(): Command {
  const command = new Command('node')
    .description('run one EVS node: print configuration changes and deliveries, multicast each stdin line to the joined groups')
    .option('--config <file>', 'JSON file with EvsNode option names (see docs/CLI.md); flags override its values')
    .option('--groups <list>', `groups to join, comma-separated (default: ${defaultGroups.join(',')})`)
    .addOption(new Option('--guarantee <guarantee>', 'delivery guarantee of the lines sent from stdin (default: agreed)').choices(guarantees))
    .option('--exit-on-eof', 'stop once stdin ends and the lines sent were delivered back (default: keep running)')
    .option('--debug', "print the protocol core's log lines to stderr (default: off)")
    .option('--json', 'print one JSON object per line (configuration changes, deliveries with their whole payload); status goes to stderr (default: text)');
  addFlags(command, [...identityFlags, ...portFlags, ...transportFlags, ...cryptoFlags], 'Node:');
  addFlags(command, [...sizeFlags, ...threadFlags], 'Sizes and threads:');
  addFlags(command, totemFlags, 'Totem (corosync names and derived defaults):');
  addMetricsFlags(command);
  command.showHelpAfterError('(run `evs node --help` for every option)').exitOverride(exitOnCommanderError);
  return command.action(async (flags: NodeCommandFlags) => runNode(flags));
}

async function runNode(flags: NodeCommandFlags): Promise<void> {
  const guarantee = flags.guarantee ?? 'agreed';
  let sources: OptionSources = { fromFlags: new Set(), configFile: flags.config ?? null, fromMembers: new Set() };
  const fail = (error: unknown): never => failAndExit('evs node', error, (e) => explainStartError(e, sources));
  let node: EvsNode;
  let handle: EvsHandle;
  let metrics: MetricsServer | null = null;
  let stopRequested: NodeJS.Signals | null = null;
  let stopNow: (signal: NodeJS.Signals | null) => void = (signal) => {
    stopRequested = signal;
  };
  onStopSignal((signal) => stopNow(signal));
  try {
    const config = flags.config !== undefined ? readConfigFile(flags.config) : null;
    const mapped = startOptionsFrom(flags, nodeFlags, config?.options ?? {}, config?.path ?? null);
    sources = mapped.sources;
    const groups = flags.groups !== undefined ? parseGroups(flags.groups) : config?.groups ?? defaultGroups;
    checkStartOptions(mapped);
    const metricsPort = (() => {
      try {
        return metricsPortOf(flags.metricsPort);
      } catch (error) {
        throw new UsageError(messageOf(error));
      }
    })();
    node = await EvsNode.start({ ...mapped.options, debug: flags.debug === true });
    handle = node.open();
    if (flags.json === true) {
      handle.on('confchg', (c) => console.log(jsonConfchg(c, epochMs())));
      handle.on('deliver', (m) => console.log(jsonDelivery(m, epochMs())));
    } else {
      handle.on('confchg', (c) => console.log(formatConfchg(c).join('\n')));
      handle.on('deliver', (m) => console.log(formatDelivery(m)));
    }
    await handle.join(groups).catch(async (error: unknown) => {
      await node.stop();
      throw new UsageError(`--groups: ${messageOf(error)}`);
    });
    if (metricsPort !== null) {
      metrics = await serveMetrics(await node.metricsRegistry(), metricsPort, typeof flags.metricsAddr === 'string' ? flags.metricsAddr : '127.0.0.1');
      console.error(`evs node ${node.nodeId}: metrics at http://${metrics.address.address}:${metrics.address.port}/metrics`);
    }
    const o = node.options;
    console.error(`evs node ${o.nodeId}: bound ${node.address.address}:${node.address.port} (${o.transport}, ${o.crypto}, ${o.threads.layout} layout), joined ${groups.join(',')}; lines typed here go to ${groups.join(',')} (${guarantee})`);
  } catch (error) {
    return fail(error);
  }
  node.on('error', (error) => failAndExit('evs node', new Error(`the node failed: ${error.message}`)));
  const lines = sendLines(handle, node.nodeId, guarantee);

  let stopping: Promise<void> | null = null;
  stopNow = (signal) => {
    stopping ??= (async () => {
      lines.close();
      await metrics?.close();
      await node.stop();
      process.exit(signal === null ? 0 : signalExitCode(signal));
    })();
  };
  if (stopRequested !== null) stopNow(stopRequested);
  lines.ended.then(async () => {
    if (stopping !== null) return;
    if (flags.exitOnEof !== true) {
      console.error(`evs node ${node.nodeId}: stdin ended; still running (SIGINT or SIGTERM stops it)`);
      return;
    }
    await lines.allDeliveredBack;
    stopNow(null);
  }, () => undefined);
}

interface LineSender {
  /** resolves when stdin ends. */
  readonly ended: Promise<void>;
  /** resolves once every line sent so far was delivered back to this node (self delivery). */
  readonly allDeliveredBack: Promise<void>;
  close(): void;
}

/** each stdin line is one message to the joined groups, in the order typed (one send queue: FIFO). */
function sendLines(handle: EvsHandle, nodeId: number, guarantee: GuaranteeName): LineSender {
  let sent = 0;
  let deliveredBack = 0;
  let allBack: (() => void) | null = null;
  handle.on('deliver', (m) => {
    if (m.sender !== nodeId) return;
    deliveredBack++;
    if (allBack !== null && deliveredBack >= sent) allBack();
  });
  const reader = createInterface({ input: process.stdin, terminal: false });
  let queue = Promise.resolve();
  reader.on('line', (line) => {
    queue = queue.then(() => handle.mcastJoined(Buffer.from(line), { guarantee })).then(
      () => {
        sent++;
      },
      (error: unknown) => console.error(`evs node ${nodeId}: not sent: ${messageOf(error)}`),
    );
  });
  const ended = new Promise<void>((resolve) => reader.once('close', () => resolve(queue)));
  return {
    ended,
    get allDeliveredBack(): Promise<void> {
      return ended.then(() => new Promise<void>((resolve) => {
        if (deliveredBack >= sent) resolve();
        else allBack = resolve;
      }));
    },
    close: () => reader.close(),
  };
}
