/** options.frameBytesMax: Totem's frame bound, separate from netmtu (the packet bound). */
import { describe, expect, it } from 'vitest';
import { EvsError } from '../../../src/errors.ts';
import { resolveOptions, type EvsNodeOptions } from '../../../src/options.ts';

const base: EvsNodeOptions = {
  nodeId: 1, bindAddr: '127.0.0.1', stateDir: '/tmp/evs-state', key: new Uint8Array(32).fill(7),
  members: [{ nodeId: 1, addr: '127.0.0.1' }, { nodeId: 2, addr: '127.0.0.2' }],
};

describe('options.frameBytesMax', () => {
  it('defaults to 65535 whatever netmtu is, and takes a given value', () => {
    expect(resolveOptions({ ...base, netmtu: 1500 }).frameBytesMax).toBe(65535);
    expect(resolveOptions({ ...base, netmtu: 1500, frameBytesMax: 9000 })).toMatchObject({ netmtu: 1500, frameBytesMax: 9000 });
  });

  it('names the option and the rule for a bad value', () => {
    for (const bad of [575, 65536, 1.5, '9000']) {
      let caught: unknown;
      try {
        resolveOptions({ ...base, frameBytesMax: bad } as unknown as EvsNodeOptions);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EvsError);
      expect((caught as EvsError).code).toBe('ERR_EVS_INVALID_OPTION');
      expect((caught as EvsError).message).toMatch(/^options\.frameBytesMax must be an integer from 576 to 65535 \(got /);
    }
  });
});
