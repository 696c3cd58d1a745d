import { describe, expect, it } from 'vitest';
import { EvsError } from '../../../src/errors.ts';
import { totemDefaults } from '../../../src/protocol/config.ts';
import { resolveOptions, type EvsNodeOptions } from '../../../src/options.ts';
import { probeHost } from '../../../src/runtime/network/interface-mtu.ts';

const key = new Uint8Array(32).fill(7);
const base: EvsNodeOptions = {
  nodeId: 1, bindAddr: '127.0.0.1', stateDir: '/tmp/evs-state', key,
  members: [{ nodeId: 1, addr: '127.0.0.1' }, { nodeId: 2, addr: '127.0.0.2' }, { nodeId: 3, addr: '127.0.0.3' }],
};

function rejects(patch: Record<string, unknown>, message: string): void {
  let caught: unknown;
  try {
    resolveOptions({ ...base, ...patch } as EvsNodeOptions);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(EvsError);
  expect((caught as EvsError).code).toBe('ERR_EVS_INVALID_OPTION');
  expect((caught as EvsError).message).toBe(message);
}

describe('EvsNode options', () => {
  it('fills corosync defaults and derivations (3 nodes: token 3650, consensus 4380)', () => {
    const r = resolveOptions(base);
    expect(r.transport).toBe('udpu');
    expect(r.port).toBe(5405);
    expect(r.members.map((m) => `${m.nodeId}@${m.addr}:${m.port}`)).toEqual(['1@127.0.0.1:5405', '2@127.0.0.2:5405', '3@127.0.0.3:5405']);
    expect(r.totem.tokenMs).toBe(3650);
    expect(r.totem.consensusMs).toBe(4380);
    expect(r.totem.tokenRetransmitMs).toBe(357); // token / (10 + 0.2): 10 retransmits, not corosync's 4 (docs/DEVIATIONS.md)
    expect(r.totem.holdMs).toBe(275);
    expect(r.threads).toEqual({ layout: 'single', cryptoThreads: 0, workerNice: 0 });
    expect(r.messageBytesMax).toBe(1024 * 1024);
  });

  it('a short token keeps the derived retransmit interval at the timers\' floor (30 ms) instead of refusing it', () => {
    const r = resolveOptions({ ...base, totem: { tokenMs: 300, tokenCoefficientMs: 0 } });
    expect(r.totem.tokenMs).toBe(300);
    expect(r.totem.tokenRetransmitMs).toBe(30); // 300 / 10.2 = 29 would be under the floor
    expect(resolveOptions({ ...base, totem: { tokenMs: 1000, tokenCoefficientMs: 0 } }).totem.tokenRetransmitMs).toBe(98);
    rejects({ totem: { tokenMs: 300, tokenRetransmitMs: 29 } }, 'options.totem.tokenRetransmitMs must be a number >= 30 (got 29)');
  });

  it('netmtu defaults to the MTU of bindAddr\'s interface: loopback carries 64 KiB datagrams, an unknown address 1500', () => {
    // the runtime probes the host (probeHost) and passes it in, as EvsNode.start does
    const resolveOnHost = (o: EvsNodeOptions) => resolveOptions(o, probeHost(o));
    // Linux reads /sys/class/net/lo/mtu (65536, capped to the largest IPv4 datagram); elsewhere the default is 1500
    const loopback = process.platform === 'linux' ? 65535 : 1500;
    expect(resolveOnHost(base).netmtu).toBe(loopback);
    expect(resolveOnHost({ ...base, bindAddr: '127.0.0.3', members: [{ nodeId: 1, addr: '127.0.0.3' }] }).netmtu).toBe(loopback);
    expect(resolveOnHost({ ...base, bindAddr: '0.0.0.0' }).netmtu).toBe(1500);
    expect(resolveOnHost({ ...base, netmtu: 9000 }).netmtu).toBe(9000);
  });

  it('resolution is pure: the interface MTU comes in as a host fact, clamped to 576..65535; none known means 1500', () => {
    expect(resolveOptions(base).netmtu).toBe(1500);
    expect(resolveOptions(base, { interfaceMtuBytes: null }).netmtu).toBe(1500);
    expect(resolveOptions(base, { interfaceMtuBytes: 65536 }).netmtu).toBe(65535);
    expect(resolveOptions(base, { interfaceMtuBytes: 9000 }).netmtu).toBe(9000);
    expect(resolveOptions(base, { interfaceMtuBytes: 100 }).netmtu).toBe(576);
    expect(resolveOptions({ ...base, netmtu: 1400 }, { interfaceMtuBytes: 9000 }).netmtu).toBe(1400);
    // probeHost reads nothing when netmtu is given, and tolerates options of any shape (validation names the fault)
    expect(probeHost({ ...base, netmtu: 1400 })).toEqual({});
    expect(probeHost({ bindAddr: 42 } as unknown as EvsNodeOptions)).toEqual({});
    expect(probeHost(null)).toEqual({});
  });

  it('accepts evs4j names as aliases', () => {
    const r = resolveOptions({ ...base, totem: { tokenLossTimeout: 1000, tokenCoefficientMs: 0, tokenDroppedTimeout: 100, joinTimeout: 40, consensusTimeout: 1500, maxWindow: 30 } });
    expect([r.totem.tokenMs, r.totem.tokenRetransmitMs, r.totem.joinMs, r.totem.consensusMs, r.totem.windowSize]).toEqual([1000, 100, 40, 1500, 30]);
  });

  it('names the option and the rule for each bad value', () => {
    rejects({ nodeId: 0 }, 'options.nodeId must be an integer from 1 to 4294967295 (got 0)');
    rejects({ bindAddr: 'localhost' }, "options.bindAddr must be an IPv4 address (got 'localhost')");
    rejects({ transport: 'tcp' }, "options.transport must be one of 'udpu', 'udp' (got 'tcp')");
    rejects({ port: 70000 }, 'options.port must be an integer from 1 to 65535 (got 70000)');
    rejects({ members: [{ nodeId: 1, addr: '127.0.0.1' }, { nodeId: 1, addr: '127.0.0.2' }] }, 'options.members[1].nodeId must be unique (got 1)');
    rejects({ members: [{ nodeId: 2, addr: '127.0.0.2' }] }, "options.members must list this node (nodeId 1) for transport 'udpu' (got [2])");
    rejects({ members: [{ nodeId: 1, addr: '127.0.0.1', weight: 3 }] }, "options.members[0].weight is not an option (got 'weight')");
    rejects({ colour: 'red' }, "options.colour is not an option (got 'colour')");
    rejects({ key: undefined }, "options.keyFile is required (or options.key) unless options.crypto is 'none' (got undefined)");
    rejects({ key: new Uint8Array(8) }, "options.key must be a Uint8Array of 32 to 4096 bytes (got '8 bytes')");
    rejects({ transport: 'udp', mcastAddr: '10.0.0.1' }, "options.mcastAddr must be a multicast address (224.0.0.0/4) (got '10.0.0.1')");
    rejects({ netmtu: 100 }, 'options.netmtu must be an integer from 576 to 65535 (got 100)');
    rejects({ threads: { layout: 'triple' } }, "options.threads.layout must be one of 'split', 'single' (got 'triple')");
    rejects({ threads: { workerNice: 20 } }, 'options.threads.workerNice must be an integer from 0 to 19 (got 20)');
    rejects({ totem: { tokenMs: 10 } }, 'options.totem.tokenMs must be a number >= 30 (got 10)');
    rejects({ totem: { tokenMs: 1000, tokenLossTimeout: 2000 } }, 'options.totem.tokenLossTimeout is given twice (also as tokenMs or its alias) (got 2000)');
    rejects({ totem: { joinMs: 100, consensusMs: 50, tokenCoefficientMs: 0, tokenMs: 1000 } }, 'options.totem.consensusMs must be >= joinMs (50 < 100) (got 50)');
    rejects({ totem: { ordering: 'fast' } }, "options.totem.ordering must be one of 'classic', 'accelerated' (got 'fast')");
    rejects({ totem: { ordering: 'accelerated', acceleratedWindow: 18 } }, 'options.totem.acceleratedWindow must be an integer from 0 to maxMessages (17) (got 18)');
    rejects({ totem: { maxMessages: 5, acceleratedWindow: 6 } }, 'options.totem.acceleratedWindow must be an integer from 0 to maxMessages (5) (got 6)');
    rejects({ totem: { acceleratedWindow: -1 } }, 'options.totem.acceleratedWindow must be a number >= 0 (got -1)');
    rejects({ totem: { acceleratedWindow: 2.5 } }, 'options.totem.acceleratedWindow must be an integer from 0 to maxMessages (17) (got 2.5)');
    rejects({ queueBytesMax: 10 }, 'options.queueBytesMax must be an integer from 1048576 to 1073741824 (got 10)');
  });

  it('totem.ordering and totem.acceleratedWindow: defaults, bounds 0..maxMessages', () => {
    const d = resolveOptions(base).totem;
    // the runtime's default is the Accelerated Ring; the core's (totemDefaults, the simulator's) stays classic
    expect([d.ordering, d.acceleratedWindow]).toEqual(['accelerated', Math.min(totemDefaults.acceleratedWindow, d.maxMessages)]);
    expect(totemDefaults.ordering).toBe('classic');
    expect(resolveOptions({ ...base, totem: { maxMessages: 4 } }).totem.acceleratedWindow).toBe(4);
    const a = resolveOptions({ ...base, totem: { ordering: 'accelerated', maxMessages: 9, acceleratedWindow: 9 } }).totem;
    expect([a.ordering, a.acceleratedWindow]).toEqual(['accelerated', 9]);
    expect(resolveOptions({ ...base, totem: { ordering: 'classic', acceleratedWindow: 0 } }).totem.acceleratedWindow).toBe(0);
  });

  it("allows crypto 'none' without a key", () => {
    const { key: _key, ...rest } = base;
    expect(resolveOptions({ ...rest, crypto: 'none' }).crypto).toBe('none');
  });

  it('errors survive crossing a thread as plain objects', () => {
    const error = new EvsError('ERR_EVS_TRY_AGAIN', 'queue full');
    const copy = EvsError.fromWire(structuredClone(error.toWire()));
    expect(copy).toBeInstanceOf(EvsError);
    expect([copy.code, copy.message]).toEqual(['ERR_EVS_TRY_AGAIN', 'queue full']);
    expect(EvsError.fromWire({ nope: 1 }).code).toBe('ERR_EVS_INTERNAL');
  });
});
