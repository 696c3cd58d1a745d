/**
 * The node's counters as Prometheus metrics, with prom-client (the
 * ecosystem's library). prom-client is loaded on the first call only, so an
 * application that never asks for metrics never loads it.
 *
 * Every metric reads one stats snapshot per scrape: prom-client collects the
 * metrics of a registry concurrently, and they share the snapshot in flight
 * (one control call to each worker per scrape). Counters are set to the
 * node's own totals (reset, then inc), so they start at 0 with the node and
 * only grow while it runs.
 */
import type { Registry } from 'prom-client';
import type { RuntimeStats } from '../node-runtime.ts';

/** What the registry reads: the node's stats, its handle count and ring size. */
export interface MetricsSource {
  readonly nodeId: number;
  stats(): Promise<RuntimeStats & { readonly handles: number }>;
  /** members of the current regular configuration (0 before the first). */
  members(): number;
}

type Snapshot = RuntimeStats & { readonly handles: number };

interface CounterSpec {
  readonly name: string;
  readonly help: string;
  readonly value: (s: Snapshot) => number;
}

const counters: readonly CounterSpec[] = [
  { name: 'evs_datagrams_received_total', help: 'datagrams the protocol worker received', value: (s) => s.protocol.datagramsIn },
  { name: 'evs_datagrams_sent_total', help: 'datagrams the protocol worker sent', value: (s) => s.protocol.datagramsOut },
  { name: 'evs_messages_submitted_total', help: 'application messages taken into the send queue', value: (s) => s.protocol.messagesSubmitted },
  { name: 'evs_messages_delivered_total', help: 'application messages delivered to at least one handle', value: (s) => s.protocol.messagesDelivered },
  { name: 'evs_messages_filtered_total', help: 'messages no handle of this node joined a group of', value: (s) => s.protocol.messagesFiltered },
  { name: 'evs_submit_refused_total', help: 'accepted messages the protocol worker could not send (reported to the handle as an error event)', value: (s) => s.protocol.submitRefused },
  { name: 'evs_configuration_changes_total', help: 'configuration changes delivered (transitional and regular)', value: (s) => s.protocol.configurationChanges },
  { name: 'evs_tokens_received_total', help: 'Totem tokens received', value: (s) => s.protocol.totem.tokensReceived },
  { name: 'evs_token_losses_total', help: 'token timer expirations (a processor failed or the token was lost)', value: (s) => s.protocol.totem.tokenLosses },
  { name: 'evs_membership_rounds_total', help: 'times this node entered GATHER (a membership round)', value: (s) => s.protocol.totem.gatherEntered },
  { name: 'evs_rings_installed_total', help: 'rings (regular configurations) this node installed', value: (s) => s.protocol.totem.ringsInstalled },
  { name: 'evs_retransmits_sent_total', help: 'messages this node retransmitted', value: (s) => s.protocol.totem.retransmitsSent },
  { name: 'evs_retransmits_requested_total', help: 'retransmissions this node asked for on the token', value: (s) => s.protocol.totem.retransmitsRequested },
  { name: 'evs_congestion_backoffs_total', help: 'token visits that halved this node\'s flow-control window (a loss a rotation old)', value: (s) => s.protocol.totem.congestionBackoffs },
];

const gauges: readonly CounterSpec[] = [
  { name: 'evs_window_messages', help: 'this node\'s flow-control window (windowSizeMin..windowSize messages per rotation)', value: (s) => s.protocol.totem.window },
  { name: 'evs_deliver_backlog_bytes', help: 'deliveries waiting in the protocol worker because the deliver ring is full (bound: rings.deliverBacklogBytes)', value: (s) => s.protocol.deliverBacklogBytes },
  { name: 'evs_deliver_backlog_peak_bytes', help: 'largest deliver backlog so far', value: (s) => s.protocol.deliverBacklogPeakBytes },
  { name: 'evs_send_queue_messages', help: 'messages in the send queue of the protocol core', value: (s) => s.protocol.queuedMessages },
  { name: 'evs_send_queue_bytes', help: 'bytes in the send queue of the protocol core (bound: queueBytesMax)', value: (s) => s.protocol.queuedBytes },
  { name: 'evs_submit_waiting', help: 'messages waiting on the main thread for room in the submit ring', value: (s) => s.submitWaiting },
  { name: 'evs_handles', help: 'open handles', value: (s) => s.handles },
];

/** (layer, reason, count) of every counter of refused datagrams. */
function drops(s: Snapshot): [string, string, number][] {
  const out: [string, string, number][] = [];
  for (const [reason, n] of Object.entries(s.protocol.decodeDropped)) out.push(['decode', reason, n]);
  for (const [reason, n] of Object.entries(s.network.crypto.dropped)) out.push(['crypto', reason, n]);
  out.push(['transport', 'unknown-source', s.network.transport.rxUnknownSource]);
  out.push(['transport', 'rx-ring-full', s.network.rxRingFull]);
  return out;
}

/** a prom-client Registry of the node's metrics, labelled `node_id`. */
export async function createMetricsRegistry(source: MetricsSource): Promise<Registry> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  registry.setDefaultLabels({ node_id: String(source.nodeId) });
  let pending: Promise<Snapshot> | null = null;
  const snapshot = (): Promise<Snapshot> => {
    pending ??= source.stats().finally(() => setImmediate(() => {
      pending = null;
    }));
    return pending;
  };
  for (const spec of counters) {
    new prom.Counter({
      name: spec.name, help: spec.help, registers: [registry],
      async collect() {
        const s = await snapshot();
        this.reset();
        this.inc(spec.value(s));
      },
    });
  }
  for (const spec of gauges) {
    new prom.Gauge({
      name: spec.name, help: spec.help, registers: [registry],
      async collect() {
        this.set(spec.value(await snapshot()));
      },
    });
  }
  new prom.Gauge({
    name: 'evs_ring_members', help: 'members of the current regular configuration', registers: [registry],
    collect() {
      this.set(source.members());
    },
  });
  new prom.Counter({
    name: 'evs_datagrams_dropped_total', help: 'received datagrams refused, by layer and reason', labelNames: ['layer', 'reason'], registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const [layer, reason, n] of drops(s)) this.inc({ layer, reason }, n);
    },
  });
  return registry;
}
