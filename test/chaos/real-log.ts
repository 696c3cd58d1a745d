/**
 * The adapter between a real run and the simulator's EVS checker
 * (test/sim/checkers.ts): one checker for both worlds.
 *
 * A real run's log has two sources per node incarnation:
 *  * the node itself: `evs node --json` prints one object per configuration
 *    change and per delivery, stamped with its own clock (`atMs`);
 *  * the harness: when it started the process, wrote a payload line to its
 *    stdin (a send), killed it (crash) or asked it to stop (leave).
 * `toCheckerRecords` merges them by time — both use src/cli/epoch-clock.ts,
 * one clock per machine; a node's own lines are increasing
 * in it, so their order survives the merge — and turns them into the
 * checker's LogRecord form.
 *
 * What the public API does not show, and how the adapter fills it in
 * (so the checks that only compare those fields are vacuous here; every
 * other check runs as in the simulator):
 *  * a delivery's ring id: the ring of the view it was delivered in (regular:
 *    that ring; transitional: the regular ring before it) — EVS's rule, so
 *    invariant 9 cannot fail on a real log;
 *  * a delivery's ring seq: not exposed; 0 everywhere, so the seq parts of
 *    invariant 10 (increasing seq per ring, one seq per message) and the
 *    hole rule of invariant 8 see nothing. Order itself is still checked:
 *    common prefixes within a regular view and pairwise order over the run;
 *  * a configuration change's `fromRingId`: the node's previous regular ring;
 *  * the handle's first event, a snapshot of the current regular
 *    configuration with empty left/joined lists (evs_initialize's behaviour):
 *    it becomes the pair a first change is in the simulator, an empty
 *    TRANSITIONAL then the REGULAR with `joined` = its members.
 */
import { Guarantee, type RingId } from '../../src/wire/messages.ts';
import { msgIdOf, type LogRecord, type RecordInput } from '../sim/log.ts';
import { parsePayload } from './payload.ts';

export type GuaranteeName = 'agreed' | 'safe';

interface RawBase {
  readonly node: number;
  readonly incarnation: number;
  /** ms on the machine's clock (src/cli/epoch-clock.ts). */
  readonly at: number;
}

/** what `evs node --json` printed. */
export type NodeLine =
  | { readonly event: 'confchg'; readonly atMs: number; readonly type: 'transitional' | 'regular'; readonly ringId: RingId;
    readonly members: number[]; readonly left: number[]; readonly joined: number[] }
  | { readonly event: 'deliver'; readonly atMs: number; readonly sender: number; readonly groups: string[];
    readonly guarantee: GuaranteeName; readonly bytes: number; readonly payload?: string; readonly payloadBase64?: string };

export type RawRecord =
  | (RawBase & { readonly kind: 'start' })
  | (RawBase & { readonly kind: 'send'; readonly counter: number; readonly size: number; readonly guarantee: GuaranteeName })
  | (RawBase & { readonly kind: 'crash' | 'leave' })
  | (RawBase & { readonly kind: 'line'; readonly line: NodeLine });

/** one stdout line of `evs node --json`, or null when it is not one of its objects. */
export function parseNodeLine(text: string): NodeLine | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.atMs !== 'number') return null;
  if (v.event === 'confchg' && (v.type === 'regular' || v.type === 'transitional') && Array.isArray(v.members)) return v as unknown as NodeLine;
  if (v.event === 'deliver' && typeof v.sender === 'number' && typeof v.bytes === 'number') return v as unknown as NodeLine;
  return null;
}

const guaranteeOf = (g: GuaranteeName): Guarantee => (g === 'safe' ? Guarantee.Safe : Guarantee.Agreed);
const noRing: RingId = { rep: 0, seq: 0 };

/** per incarnation: what the adapter infers while walking its records in order. */
interface Walk {
  lastRegular: RingId | null;
  view: 'none' | 'regular' | 'transitional';
  confs: number;
}

function deliverInput(line: Extract<NodeLine, { event: 'deliver' }>, walk: Walk): RecordInput {
  const text = line.payload;
  const parsed = text === undefined ? null : parsePayload(text);
  const intact = parsed !== null && parsed.intact && Buffer.byteLength(text ?? '') === line.bytes;
  return {
    kind: 'deliver',
    msgId: parsed === null ? null : msgIdOf(parsed.sender, parsed.counter),
    sender: line.sender,
    counter: parsed?.counter ?? -1,
    size: line.bytes,
    guarantee: guaranteeOf(line.guarantee),
    ringId: walk.lastRegular ?? noRing,
    seq: 0,
    bytesOk: intact,
  };
}

function confInputs(line: Extract<NodeLine, { event: 'confchg' }>, node: number, walk: Walk): RecordInput[] {
  const from = walk.lastRegular ?? { rep: node, seq: 0 };
  const sets = { members: [...line.members], left: [...line.left], joined: [...line.joined] };
  const out: RecordInput[] = [];
  if (walk.confs === 0 && line.type === 'regular') {
    // the handle's opening snapshot (see above)
    out.push({ kind: 'conf', type: 'transitional', ringId: line.ringId, fromRingId: from, members: [], left: [], joined: [] });
    sets.joined = [...line.members];
  }
  out.push({ kind: 'conf', type: line.type, ringId: line.ringId, fromRingId: from, ...sets });
  walk.confs += 1;
  walk.view = line.type;
  if (line.type === 'regular') walk.lastRegular = line.ringId;
  return out;
}

/** merges the raw records by time and turns them into the checker's records (index = merged order). */
export function toCheckerRecords(raw: readonly RawRecord[]): LogRecord[] {
  const sorted = raw.map((r, i) => ({ r, i })).sort((a, b) => a.r.at - b.r.at || a.i - b.i).map((x) => x.r);
  const walks = new Map<string, Walk>();
  const out: LogRecord[] = [];
  const push = (r: RawRecord, input: RecordInput): void => {
    out.push({ ...input, index: out.length, at: r.at, node: r.node, incarnation: r.incarnation } as LogRecord);
  };
  for (const r of sorted) {
    const key = `${r.node}#${r.incarnation}`;
    let walk = walks.get(key);
    if (walk === undefined) {
      walk = { lastRegular: null, view: 'none', confs: 0 };
      walks.set(key, walk);
    }
    switch (r.kind) {
      case 'start':
        push(r, { kind: 'start', ringSeqLoaded: 0 });
        break;
      case 'send':
        push(r, { kind: 'send', msgId: msgIdOf(r.node, r.counter), counter: r.counter, size: r.size, guarantee: guaranteeOf(r.guarantee) });
        break;
      case 'crash':
      case 'leave':
        push(r, { kind: r.kind });
        break;
      case 'line':
        if (r.line.event === 'deliver') push(r, deliverInput(r.line, walk));
        else for (const input of confInputs(r.line, r.node, walk)) push(r, input);
        break;
    }
  }
  return out;
}

/**
 * What traffic must reach every live node once they share one regular
 * configuration: per node of `nodes` (its incarnation `incarnationOf(id)`),
 * the counter of the last payload it sent after it installed its latest
 * regular configuration; a node that sent nothing since has no entry.
 *
 * The sim checker's invariant 17 demands the same (checkProgress: sends after
 * the sender's final configuration). A payload sent before that, while the
 * sender was in a configuration of only some nodes (a partition, a node that
 * was stopped and formed a ring of its own), is delivered in that
 * configuration only: EVS lets the other side never see it, so it is not
 * awaited. Sends (the harness's clock) and configuration changes (the node's)
 * compare on one machine clock (src/cli/epoch-clock.ts).
 */
export function sentSinceLastRegular(raw: readonly RawRecord[], nodes: readonly number[], incarnationOf: (id: number) => number): Map<number, number> {
  const installedAt = new Map<number, number>();
  for (const r of raw) {
    if (r.kind !== 'line' || r.line.event !== 'confchg' || r.line.type !== 'regular' || r.incarnation !== incarnationOf(r.node)) continue;
    installedAt.set(r.node, Math.max(installedAt.get(r.node) ?? -Infinity, r.at));
  }
  const want = new Map<number, number>();
  for (const r of raw) {
    if (r.kind !== 'send' || !nodes.includes(r.node) || r.incarnation !== incarnationOf(r.node)) continue;
    const since = installedAt.get(r.node);
    if (since === undefined || r.at <= since) continue;
    want.set(r.node, Math.max(want.get(r.node) ?? 0, r.counter));
  }
  return want;
}
