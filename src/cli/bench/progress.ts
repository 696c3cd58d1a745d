/**
 * The table goes to stdout line by line; the progress bar (cli-progress) to
 * stderr, only when stderr is a terminal or --progress asked for it. When
 * both share a terminal, the bar's line is cleared before a table line is
 * written and drawn again after it, so the two never mix on one line.
 */
import { SingleBar } from 'cli-progress';

export class BenchOutput {
  readonly #bar: SingleBar | null;
  #value = 0;

  constructor(showBar: boolean) {
    this.#bar = showBar
      ? new SingleBar({
        stream: process.stderr,
        format: 'evs bench [{bar}] {value}/{total} {step} | {duration_formatted}',
        hideCursor: true,
        forceRedraw: true, // so render() draws the bar again after line() cleared it
        clearOnComplete: true,
        noTTYOutput: process.stderr.isTTY !== true,
        notTTYSchedule: 5000,
      })
      : null;
  }

  start(total: number, step: string): void {
    this.#bar?.start(total, 0, { step });
  }

  /** one finished step; `next` names what runs now. */
  advance(next: string): void {
    this.#value++;
    this.#bar?.update(this.#value, { step: next });
  }

  /** a table line on stdout. */
  line(text: string): void {
    const sharedTerminal = this.#bar !== null && process.stderr.isTTY === true && process.stdout.isTTY === true;
    if (sharedTerminal) process.stderr.write('\r\x1b[2K');
    process.stdout.write(`${text}\n`);
    if (sharedTerminal) this.#bar?.render();
  }

  /** a note on stderr (configuration changes seen, violations), kept off the table. */
  note(text: string): void {
    if (this.#bar !== null && process.stderr.isTTY === true) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${text}\n`);
    if (this.#bar !== null && process.stderr.isTTY === true) this.#bar.render();
  }

  stop(): void {
    this.#bar?.stop();
  }
}
