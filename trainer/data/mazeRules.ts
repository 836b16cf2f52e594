// The label-free check of a maze answer (for voting, reference.md §3.4): it keeps every wall, the
// start and the goal of the question, marks only open cells as path, and its path cells with S
// and G form one simple path from S to G (S and G one path neighbour each, every path cell two,
// all of it connected). Any such path is a solution; the shortest one is what the labels hold.
import { MAZE_GOAL, MAZE_OPEN, MAZE_PATH, MAZE_START } from './mazeGrid';

export function isValidMazeAnswer(question: Uint8Array, answer: Uint8Array, side: number): boolean {
  if (question.length !== side * side || answer.length !== question.length) return false;
  let start = -1;
  const onPath = (i: number) => answer[i] === MAZE_PATH || answer[i] === MAZE_START || answer[i] === MAZE_GOAL;
  for (let i = 0; i < question.length; i++) {
    const q = question[i]!, a = answer[i]!;
    if (q === MAZE_OPEN ? a !== MAZE_OPEN && a !== MAZE_PATH : a !== q) return false;
    if (a === MAZE_START) start = i;
  }
  if (start < 0) return false;
  const neighbours = (i: number) => {
    const r = Math.floor(i / side), c = i % side;
    return [r > 0 ? i - side : -1, r < side - 1 ? i + side : -1, c > 0 ? i - 1 : -1, c < side - 1 ? i + 1 : -1].filter((j) => j >= 0 && onPath(j));
  };
  let count = 0;
  for (let i = 0; i < answer.length; i++) {
    if (!onPath(i)) continue;
    count++;
    const degree = neighbours(i).length;
    if (answer[i] === MAZE_PATH ? degree !== 2 : degree !== 1) return false;
  }
  // Walk from S; a simple path visits every path cell once and ends at G.
  let prev = -1, at = start, seen = 1;
  while (answer[at] !== MAZE_GOAL) {
    const next = neighbours(at).find((j) => j !== prev);
    if (next === undefined || ++seen > count) return false;
    prev = at;
    at = next;
  }
  return seen === count;
}
