/**
 * Worker side of the ring tests (started with spawnWorker, so it runs from
 * this .ts file through tsx). Reports to the test over postMessage: control
 * only, every record goes through a ring.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RecordReader, RecordWriter, type RecordRingShared } from '../../../src/runtime/rings/record-ring.ts';
import { RecordSource, checkRecord } from './records.ts';

export type RingWorkerTask =
  /** writes `count` seeded records, sleeping while the ring is full. */
  | { readonly mode: 'produce'; readonly ring: RecordRingShared; readonly seed: number; readonly count: number; readonly minBody: number; readonly maxBody: number; readonly batch: number; readonly startDelayMs?: number }
  /** reads and checks `count` seeded records, sleeping in Atomics.wait while the ring is empty. */
  | { readonly mode: 'consume'; readonly ring: RecordRingShared; readonly seed: number; readonly count: number; readonly minBody: number; readonly maxBody: number; readonly pauseEvery?: number; readonly pauseMs?: number }
  /** sends every record of `input` back on `output`; an empty record ends. */
  | { readonly mode: 'echo'; readonly input: RecordRingShared; readonly output: RecordRingShared };

export interface RingWorkerReport {
  readonly done: true;
  readonly error?: string;
  readonly records: number;
  /** tryWrite* answered false (ring full). */
  readonly fulls: number;
  /** Atomics.wait calls that ended by a ring (not 'ready', not 'timed-out'). */
  readonly wokenWaits: number;
  /** flush() calls that actually notified the other side. */
  readonly notifies: number;
}

const task = workerData as RingWorkerTask;
const nap = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number): void => void Atomics.wait(nap, 0, 0, ms);

function run(): RingWorkerReport {
  let records = 0;
  let fulls = 0;
  let wokenWaits = 0;
  let notifies = 0;
  const report = (error?: string): RingWorkerReport => ({ done: true, records, fulls, wokenWaits, notifies, ...(error === undefined ? {} : { error }) });

  switch (task.mode) {
    case 'produce': {
      if (task.startDelayMs !== undefined) sleep(task.startDelayMs);
      const writer = new RecordWriter(task.ring);
      const source = new RecordSource(task.seed, task.minBody, task.maxBody);
      for (let i = 0; i < task.count; i++) {
        const { header, body } = source.next();
        while (!writer.tryWriteParts(header, body)) {
          fulls++;
          if (writer.waitForSpaceSync(header.length + body.length, 10_000) === 'woken') wokenWaits++;
        }
        records++;
        if (records % task.batch === 0 && writer.flush()) notifies++;
      }
      if (writer.flush()) notifies++;
      return report();
    }
    case 'consume': {
      const reader = new RecordReader(task.ring);
      const expected = new RecordSource(task.seed, task.minBody, task.maxBody);
      let error: string | null = null;
      while (records < task.count && error === null) {
        reader.drain((record) => {
          error ??= checkRecord(expected, record);
          records++;
          if (task.pauseEvery !== undefined && records % task.pauseEvery === 0) sleep(task.pauseMs ?? 1);
        }, 64);
        if (records < task.count && reader.waitSync(10_000) === 'woken') wokenWaits++;
      }
      return report(error ?? undefined);
    }
    case 'echo': {
      const reader = new RecordReader(task.input);
      const writer = new RecordWriter(task.output);
      let stop = false;
      while (!stop) {
        reader.drain((record) => {
          if (record.length === 0) {
            stop = true;
            return;
          }
          while (!writer.tryWrite(record)) {
            fulls++;
            if (writer.waitForSpaceSync(record.length, 10_000) === 'woken') wokenWaits++;
          }
          records++;
        });
        if (writer.flush()) notifies++;
        if (!stop && reader.waitSync(10_000) === 'woken') wokenWaits++;
      }
      return report();
    }
  }
}

let result: RingWorkerReport;
try {
  result = run();
} catch (error) {
  result = { done: true, error: String(error), records: -1, fulls: 0, wokenWaits: 0, notifies: 0 };
}
parentPort?.postMessage(result);
