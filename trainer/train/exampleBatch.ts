// A batch of encoded examples, row-major int32 arrays of B × seqLen tokens.
export interface ExampleBatch {
  size: number;
  seqLen: number;
  /** Question tokens (PAD 0, blank 1, digits from 2). */
  tokens: Int32Array;
  /** Answer tokens; 0 would be ignored, Sudoku labels never contain it. */
  labels: Int32Array;
  /** Blank cells of each row's question. */
  blanks: Int32Array;
}

export function emptyBatch(size: number, seqLen: number): ExampleBatch {
  return { size, seqLen, tokens: new Int32Array(size * seqLen), labels: new Int32Array(size * seqLen), blanks: new Int32Array(size) };
}

/** Copies row `from` of `src` into row `to` of `dst`. */
export function copyRow(src: ExampleBatch, from: number, dst: ExampleBatch, to: number): void {
  const L = src.seqLen;
  dst.tokens.set(src.tokens.subarray(from * L, (from + 1) * L), to * L);
  dst.labels.set(src.labels.subarray(from * L, (from + 1) * L), to * L);
  dst.blanks[to] = src.blanks[from]!;
}

/** Rows [start, start + count) as views. */
export function sliceRows(b: ExampleBatch, start: number, count: number): ExampleBatch {
  const L = b.seqLen;
  return {
    size: count, seqLen: L,
    tokens: b.tokens.subarray(start * L, (start + count) * L),
    labels: b.labels.subarray(start * L, (start + count) * L),
    blanks: b.blanks.subarray(start, start + count),
  };
}
