/**
 * The optional native fast path for sending (native/udp-gso.c, Linux UDP
 * segmentation offload): one sendmmsg() hands the kernel a run of a frame's
 * packets for every destination at once, where node:dgram makes one
 * sendmsg() per packet per destination. The packets on the wire are the
 * same whole UDP datagrams either way; the receiver cannot tell.
 *
 * It is built by `npm run build:native` (run by `npm ci` in this repository
 * and by `npm pack`, so the package ships it for Linux x64) and loaded here
 * once per thread. When it is missing or does not load (another platform, no
 * compiler at build time), the transport sends with node:dgram alone, which
 * every test also runs (options.udpGso 'off').
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * sendmmsg() of `parts` (the packets back to back, every one `segmentBytes`
 * long but the last) to each (ipv4, port) pair of `destinations`; returns how
 * many destinations got the whole run, or −errno when the first one failed.
 */
export type SendSegments = (fd: number, segmentBytes: number, parts: readonly Uint8Array[], destinations: Uint32Array) => number;

export interface NativeGso {
  readonly sendSegments: SendSegments | null;
  /** 'loaded', or why not. */
  readonly status: string;
}

/** packets in one segmented send: the kernel's UDP_MAX_SEGMENTS (64 before Linux 5.x raised it to 128). */
export const gsoSegmentsMax = 64;
/** bytes of one segmented send: one UDP payload's worth (65535 − 20 IPv4 − 8 UDP). */
export const udpPayloadBytesMax = 65507;

/** from src/runtime/network (sources) and dist/src/runtime/network (the package) to the package root. */
const candidates = ['../../../build/native/udp-gso.node', '../../../../build/native/udp-gso.node'];

let loaded: NativeGso | null = null;

export function nativeGso(): NativeGso {
  if (loaded !== null) return loaded;
  if (process.platform !== 'linux') return (loaded = { sendSegments: null, status: `not on ${process.platform} (Linux only)` });
  const require = createRequire(import.meta.url);
  for (const relative of candidates) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (!existsSync(path)) continue;
    try {
      const addon = require(path) as { sendSegments?: unknown };
      if (typeof addon.sendSegments !== 'function') return (loaded = { sendSegments: null, status: `${path} has no sendSegments` });
      return (loaded = { sendSegments: addon.sendSegments as SendSegments, status: 'loaded' });
    } catch (error) {
      return (loaded = { sendSegments: null, status: `${path} did not load: ${(error as Error).message}` });
    }
  }
  return (loaded = { sendSegments: null, status: 'not built (npm run build:native)' });
}

/** the file descriptor of a bound dgram socket (node:dgram keeps its handle under a private symbol). */
export function socketFd(socket: object): number | null {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  if (state === undefined) return null;
  const fd = (socket as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[state]?.handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}
