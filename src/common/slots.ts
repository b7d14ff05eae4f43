/**
 * A counting semaphore: at most `size` holders at once, the others waiting in arrival order.
 * @module
 */

export class Slots {
  readonly size: number;
  #held = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
  }

  /** How many are held now. */
  get held(): number {
    return this.#held;
  }

  /** Waits for a slot; resolves with the function that gives it back (calling it twice is harmless). */
  async acquire(): Promise<() => void> {
    if (this.#held < this.size) this.#held++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter: the count stays as it is.
      if (next === undefined) this.#held--;
      else next();
    };
  }
}
