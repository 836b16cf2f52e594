// A small, valid inspection report (one 4x4 puzzle, 2 steps, one state z) for the view's tests.
import type { InspectReport, PuzzleInspection } from '../../protocol/inspectReport';

export function puzzle(over: Partial<PuzzleInspection> = {}): PuzzleInspection {
  return {
    index: 0, question: '1.3..4.22..3.3.1', solution: '1234341221434321', blanks: 8,
    trace: { residuals: { z: [0.5, 0.1] }, answers: ['1.3..4.22..3.3.1', '1134341221434321'], correct: [false, false], violations: [0, 3], qHalt: [-1, 2] },
    finalAnswer: '1134341221434321', correct: false, violations: 3, criticalStep: null, rightThenLeft: false,
    endResidual: { z: 0.01 }, endResidualMax: 0.01, settled: false, spectralRadius: 0.7, powerTrace: [0.7], census: null,
    trajectory: { explained: [0.9, 0.1], main: [[0, 0], [1, 2], [2, 4]], perturbed: [{ points: [[-1, 1], [3, 0]], fixedPoint: null }] },
    ...over,
  };
}

export function report(puzzles: PuzzleInspection[]): InspectReport {
  return {
    version: 1, createdAt: '2026-01-01T00:00:00Z', source: { model: 'm.onnx', runDirectory: null, puzzles: 'given' },
    contract: {
      task: 'sudoku', sudokuSide: 4, vocab: ['<pad>', '<blank>', '1', '2', '3', '4'], vocabSize: 6, seqLen: 16, batch: undefined,
      states: [{ name: 'z', seq: 2, width: 4 }], answerState: 'z', arch: 'x', hCycles: 1, lCycles: 1, haltMaxSteps: undefined, hasQContinue: false,
    },
    options: { steps: 2, settleTolerance: 1e-3, powerIterations: 1, fdStep: 1e-3, perturbations: 1, noiseStd: 1, relabel: false, clusterTolerance: 1e-2, probeBlanks: [], seed: 0 },
    summary: {
      puzzles: puzzles.length, correctAtEnd: 0, settled: 0, settledWrong: 0, neverSettled: 1, neverSettledCorrect: 0, rightThenLeft: 0,
      criticalSteps: { none: 1 }, medianResidual: { z: [0.5, 0.1] }, spectralRadius: null, fixedPointsPerPuzzle: null, puzzlesWithWrongFixedPoint: null,
    },
    puzzles, probe: [], seconds: 1,
  };
}
