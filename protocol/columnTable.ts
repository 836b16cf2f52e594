// A growable table of numeric columns (one Float64Array per column, NaN = no value). The host
// fills it from trainer events and the training panel receives slices of it; both use this class,
// so the rows mean the same on both sides. Pure: no Node, no DOM, no vscode.

export type Columns<K extends string> = Record<K, Float64Array>;

export class ColumnTable<K extends string> {
  private cols: Columns<K>;
  private size = 0;

  constructor(readonly names: readonly K[], capacity = 1024) {
    this.cols = Object.fromEntries(names.map((n) => [n, new Float64Array(capacity)])) as Columns<K>;
  }

  get length(): number {
    return this.size;
  }

  /** The live column (valid up to `length`; the array itself may be longer). */
  column(name: K): Float64Array {
    return this.cols[name];
  }

  get(name: K, row: number): number {
    return row < this.size ? this.cols[name][row]! : NaN;
  }

  /** Drops every row from `rows` on. */
  truncate(rows: number): void {
    this.size = Math.max(0, Math.min(this.size, rows));
  }

  appendRow(values: Record<K, number>): void {
    this.reserve(this.size + 1);
    for (const n of this.names) this.cols[n][this.size] = values[n];
    this.size++;
  }

  /** Rows [start, start + count) from `columns` replace everything from `start` on. */
  setFrom(start: number, columns: Columns<K>): void {
    const count = this.names.length ? columns[this.names[0]!].length : 0;
    if (start > this.size) throw new RangeError(`setFrom: start ${start} is past the end (${this.size})`);
    this.reserve(start + count);
    for (const n of this.names) this.cols[n].set(columns[n], start);
    this.size = start + count;
  }

  /** Copies of rows [from, to). */
  slice(from: number, to = this.size): Columns<K> {
    const a = Math.max(0, Math.min(from, this.size));
    const b = Math.max(a, Math.min(to, this.size));
    return Object.fromEntries(this.names.map((n) => [n, this.cols[n].slice(a, b)])) as Columns<K>;
  }

  private reserve(rows: number): void {
    const cap = this.cols[this.names[0]!]?.length ?? 0;
    if (rows <= cap) return;
    let next = Math.max(16, cap);
    while (next < rows) next *= 2;
    for (const n of this.names) {
      const grown = new Float64Array(next);
      grown.set(this.cols[n].subarray(0, this.size));
      this.cols[n] = grown;
    }
  }
}
