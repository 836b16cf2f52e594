// A uniform subsample of a stream of unknown length (reservoir sampling, algorithm R): after n
// items, each is kept with probability capacity / n. Without a capacity every item is kept. The
// CSV loaders (Sudoku, maze) read their files through one.
import type { Rng } from '../random';

export class ReservoirSample<T> {
  readonly kept: T[] = [];
  /** Items offered so far. */
  seen = 0;

  constructor(private readonly capacity: number | undefined, private readonly rng: Rng) {}

  /** Offers the next item; `make` builds it only when it is kept. */
  offer(make: () => T): void {
    const index = this.seen++;
    let slot = index;
    if (this.capacity !== undefined && index >= this.capacity) {
      slot = this.rng.int(index + 1);
      if (slot >= this.capacity) return;
    }
    const item = make();
    if (slot === index) this.kept.push(item);
    else this.kept[slot] = item;
  }
}
