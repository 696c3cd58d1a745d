/**
 * EvsErrorCode is a union of literal codes: narrowing on `code` works, a code
 * that is not listed does not compile, and every listed code survives the trip
 * across a thread (toWire / fromWire). The type-level checks are verified by
 * `npm run typecheck` (tsc includes test/); the runtime checks by vitest.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { CryptoError, EvsError, type EvsErrorCode, evsErrorCodes, GroupError, isEvsErrorCode, RingSeqFileError } from '../../../src/errors.ts';

/** Exhaustive: a code added to evsErrorCodes without a case here fails typecheck at `const missing: never`. */
function area(code: EvsErrorCode): 'api' | 'groups' | 'crypto' | 'state' | 'harness' {
  switch (code) {
    case 'ERR_EVS_INVALID_OPTION':
    case 'ERR_EVS_INVALID_ARGUMENT':
    case 'ERR_EVS_MESSAGE_TOO_LARGE':
    case 'ERR_EVS_TOO_MANY_GROUPS':
    case 'ERR_EVS_GROUP_NAME_TOO_LONG':
    case 'ERR_EVS_GROUP_NAME_EMPTY':
    case 'ERR_EVS_BAD_GUARANTEE':
    case 'ERR_EVS_NOT_JOINED':
    case 'ERR_EVS_BAD_HANDLE':
    case 'ERR_EVS_TOO_MANY_HANDLES':
    case 'ERR_EVS_TRY_AGAIN':
    case 'ERR_EVS_ABORTED':
    case 'ERR_EVS_STOPPED':
    case 'ERR_EVS_DELIVERY_OVERFLOW':
    case 'ERR_EVS_WORKER_FAILED':
    case 'ERR_EVS_BIND':
    case 'ERR_EVS_INTERNAL':
      return 'api';
    case 'ERR_EVS_BAD_OPTION':
      return 'groups';
    case 'ERR_EVS_KEY_SIZE':
    case 'ERR_EVS_KEY_FILE_NOT_FOUND':
    case 'ERR_EVS_KEY_FILE_NOT_A_FILE':
    case 'ERR_EVS_KEY_FILE_PERMISSIONS':
    case 'ERR_EVS_KEY_FILE_SIZE':
    case 'ERR_EVS_KEY_FILE_EXISTS':
    case 'ERR_EVS_KEY_FILE_IO':
    case 'ERR_EVS_CRYPTO_OUTPUT_TOO_SMALL':
    case 'ERR_EVS_CRYPTO_COUNTER_EXHAUSTED':
    case 'ERR_EVS_CRYPTO_BAD_OPTION':
      return 'crypto';
    case 'ERR_EVS_STATE_FILE_CORRUPT':
    case 'ERR_EVS_STATE_FILE_IO':
    case 'ERR_EVS_STATE_FILE_BAD_ARGUMENT':
      return 'state';
    case 'ERR_EVS_TIMEOUT':
    case 'ERR_EVS_CHILD_EXITED':
      return 'harness';
    default: {
      const missing: never = code;
      throw new Error(`unlisted code ${String(missing)}`);
    }
  }
}

describe('EvsErrorCode', () => {
  it('is a union of literals: not string, and narrowing on code gives the literal', () => {
    expectTypeOf<EvsErrorCode>().not.toEqualTypeOf<string>();
    expectTypeOf<string>().not.toExtend<EvsErrorCode>();
    const error: EvsError = new EvsError('ERR_EVS_STOPPED', 'the node is stopped');
    if (error.code === 'ERR_EVS_STOPPED') {
      expectTypeOf(error.code).toEqualTypeOf<'ERR_EVS_STOPPED'>();
    } else {
      expectTypeOf(error.code).toEqualTypeOf<Exclude<EvsErrorCode, 'ERR_EVS_STOPPED'>>();
    }
    expect(area(error.code)).toBe('api');
    // @ts-expect-error a code that is not listed does not compile
    new EvsError('ERR_EVS_NO_SUCH_CODE', 'x');
    // @ts-expect-error a GroupError carries only the group layer's codes
    new GroupError('ERR_EVS_KEY_SIZE', 'x');
    // @ts-expect-error a CryptoError carries only the crypto layer's codes
    new CryptoError('ERR_EVS_STOPPED', 'x');
  });

  it('lists every code once, each with a description, and the switch above covers them all', () => {
    const codes = Object.keys(evsErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) {
      expect(code).toMatch(/^ERR_EVS_[A-Z_]+$/);
      expect(isEvsErrorCode(code)).toBe(true);
      expect(evsErrorCodes[code as EvsErrorCode].length).toBeGreaterThan(0);
      expect(['api', 'groups', 'crypto', 'state', 'harness']).toContain(area(code as EvsErrorCode));
    }
    expect(codes).toContain('ERR_EVS_STOPPED');
  });

  it('every listed code survives toWire / fromWire; an unlisted one becomes ERR_EVS_INTERNAL', () => {
    for (const code of Object.keys(evsErrorCodes) as EvsErrorCode[]) {
      const back = EvsError.fromWire(structuredClone(new EvsError(code, `m ${code}`).toWire()));
      expect([back.code, back.message]).toEqual([code, `m ${code}`]);
    }
    expect(EvsError.fromWire({ code: 'ERR_EVS_NO_SUCH_CODE', message: 'x' }).code).toBe('ERR_EVS_INTERNAL');
    expect(EvsError.fromWire({ code: 'toString', message: 'x' }).code).toBe('ERR_EVS_INTERNAL');
    expect(EvsError.fromWire('boom').code).toBe('ERR_EVS_INTERNAL');
  });

  it('every error class is an EvsError with its own name', () => {
    const errors = [new GroupError('ERR_EVS_BAD_OPTION', 'g'), new CryptoError('ERR_EVS_KEY_SIZE', 'c'), new RingSeqFileError('ERR_EVS_STATE_FILE_IO', 's')];
    expect(errors.map((e) => e instanceof EvsError)).toEqual([true, true, true]);
    expect(errors.map((e) => e.name)).toEqual(['GroupError', 'CryptoError', 'RingSeqFileError']);
  });
});
