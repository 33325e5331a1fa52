// Feedback while a command waits: on a terminal, one status line rewritten in place on
// stderr; piped, nothing but the notes, so scripts read clean output.

export class Ticker {
  readonly #tty: boolean;
  #shown = false;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#tty = stream.isTTY === true;
  }

  /** Replaces the status line (terminals only). */
  show(text: string): void {
    if (!this.#tty) return;
    const width = (process.stderr.columns || 80) - 1;
    process.stderr.write(`\r\u001b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.#shown = true;
  }

  /** A line that stays, on a terminal or not. */
  note(text: string): void {
    this.clear();
    process.stderr.write(`mainspring: ${text}\n`);
  }

  clear(): void {
    if (!this.#shown) return;
    process.stderr.write('\r\u001b[2K');
    this.#shown = false;
  }
}
