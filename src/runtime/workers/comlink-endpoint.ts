/**
 * comlink over a worker_threads MessagePort or Worker. comlink ships this
 * adapter as `comlink/dist/esm/node-adapter.mjs` with no types TypeScript can
 * find from ESM; these few lines are the same adapter, typed.
 */
import type { Endpoint } from 'comlink';
import type { MessagePort, Worker } from 'node:worker_threads';

type Listener = Parameters<Endpoint['addEventListener']>[1];

export function nodeEndpoint(port: MessagePort | Worker): Endpoint {
  const wrapped = new WeakMap<Listener, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: Parameters<Endpoint['postMessage']>[1]) => port.postMessage(message, transfer as never),
    addEventListener: (_type: string, listener: Listener) => {
      const l = (data: unknown): void => {
        if (typeof listener === 'function') listener({ data } as MessageEvent);
        else listener.handleEvent({ data } as MessageEvent);
      };
      port.on('message', l);
      wrapped.set(listener, l);
    },
    removeEventListener: (_type: string, listener: Listener) => {
      const l = wrapped.get(listener);
      if (l === undefined) return;
      port.off('message', l);
      wrapped.delete(listener);
    },
  };
}
