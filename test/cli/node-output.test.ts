/** How `evs node` shows a payload: one line whatever the bytes, cut when long. */
import { describe, expect, it } from 'vitest';
import { formatConfchg, payloadCharsShown, showPayload } from '../../src/cli/commands/node-output.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('showPayload', () => {
  it('text as a JSON string: quotes and control characters escaped, never a line break', () => {
    expect(showPayload(bytes('say "hi"\n\ttab\u0007'))).toBe('"say \\"hi\\"\\n\\ttab\\u0007"');
    expect(showPayload(bytes('grüße ✓'))).toBe('"grüße ✓"');
    expect(showPayload(new Uint8Array(0))).toBe('""');
  });

  it('bytes that are not UTF-8 in hex, the first 32', () => {
    expect(showPayload(Uint8Array.of(0xff, 0x00, 0x41))).toBe('<binary ff0041>');
    expect(showPayload(new Uint8Array(40).fill(0xfe))).toBe(`<binary ${'fe'.repeat(32)}…>`);
  });

  it('long text cut, with how much is left', () => {
    const shown = showPayload(bytes('x'.repeat(1000)));
    expect(shown).toBe(`"${'x'.repeat(payloadCharsShown)}"… ${1000 - payloadCharsShown} more bytes`);
  });
});

describe('formatConfchg', () => {
  it('type, ring id and the three lists', () => {
    expect(formatConfchg({ kind: 'confchg', type: 'transitional', ringId: { rep: 1, seq: 12 }, members: [1, 3], left: [2], joined: [] })).toEqual([
      'CONFIGURATION CHANGE (transitional, ring 1/12)',
      '--------------------',
      'New configuration: 1 3',
      'Members Left: 2',
      'Members Joined: (none)',
    ]);
  });
});
