// The one checker of a user-given puzzle for `reclab inspect` and `reclab trace`: "QUESTION" or
// "QUESTION:SOLUTION". The question passes protocol/puzzleInput.ts (length, characters, size,
// clashing givens, a blank); a given solution must be a valid grid that keeps every given; without
// one the puzzle must have a solution (the solution is kept when unique).
import { checkPuzzleInput, checkSolutionInput } from '../../protocol/puzzleInput';
import { countSolutions, solve } from './sudokuSolver';

export interface CheckedPuzzle {
  question: Uint8Array;
  /** The given or unique solution; null when the puzzle has several. */
  solution: Uint8Array | null;
}

/** The puzzle, or the reason it is refused (without the location). */
export function checkPuzzleText(text: string, side: 4 | 9): CheckedPuzzle | { refused: string } {
  const parts = text.trim().split(':');
  if (parts.length > 2 || !parts[0]) return { refused: 'expected QUESTION or QUESTION:SOLUTION' };
  const q = checkPuzzleInput(parts[0], side);
  if (!q.ok) return { refused: q.reason };
  const question = Uint8Array.from(q.cells);
  if (parts[1] !== undefined) {
    const s = checkSolutionInput(parts[1], q.cells, side);
    if (!s.ok) return { refused: `solution: ${s.reason}` };
    return { question, solution: Uint8Array.from(s.cells) };
  }
  const count = countSolutions(question, side, 2);
  if (count === 0) return { refused: 'the puzzle has no solution' };
  return { question, solution: count === 1 ? solve(question, side) : null };
}
