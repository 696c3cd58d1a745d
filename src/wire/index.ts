/**
 * The wire codec: typed messages and their little-endian datagram format.
 * See header.ts for the layout and decode.ts for the zero-copy payload rule.
 */
export * from './messages.ts';
export * from './header.ts';
export { encode, encodeInto, encodedSize } from './encode.ts';
export { decode, decodeErrors, type DecodeError, type DecodeResult } from './decode.ts';
