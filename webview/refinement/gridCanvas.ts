// The Sudoku grid on a canvas: box lines, given cells on a neutral ground in bold, predicted cells
// shaded by the model's confidence, ✓ / ✗ against the solution, and a ring around every cell whose
// prediction changed since the previous frame. Colours from the VS Code theme (GridColours).
import { withAlpha, type Theme } from '../training/theme';
import type { CellView } from './gridCells';
import type { MazeCellView } from './mazeCells';

export interface GridColours {
  theme: Theme;
  right: string;
  wrong: string;
  changed: string;
  shade: string;
  digitFont: string;
}

/** The theme plus the few extra variables the grid and the q_halt chart use. */
export function readGridColours(theme: Theme): GridColours {
  const root = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => root.getPropertyValue(name).trim() || getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
  return {
    theme,
    right: v('--vscode-charts-green', '#388a34'),
    wrong: v('--vscode-errorForeground', '#f14c4c'),
    changed: v('--vscode-editorWarning-foreground', v('--vscode-charts-orange', '#d18616')),
    shade: v('--vscode-charts-blue', '#3794ff'),
    digitFont: v('--vscode-editor-font-family', 'monospace'),
  };
}

/**
 * Sizes `canvas` for `side` cells of `cell` CSS pixels (plus a 2 px margin) at the device pixel
 * ratio, clears it, and fills the grid's square with the theme's background; the context comes
 * back translated to the square's corner, or undefined without a 2-D context.
 */
function prepareCanvas(canvas: HTMLCanvasElement, cell: number, side: number, c: GridColours): CanvasRenderingContext2D | undefined {
  const ctx = canvas.getContext('2d');
  if (!ctx) return undefined;
  const size = cell * side;
  const pad = 2;
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${size + 2 * pad}px`;
  canvas.style.height = `${size + 2 * pad}px`;
  canvas.width = Math.round((size + 2 * pad) * dpr);
  canvas.height = Math.round((size + 2 * pad) * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, size + 2 * pad, size + 2 * pad);
  ctx.translate(pad, pad);
  ctx.fillStyle = c.theme.background;
  ctx.fillRect(0, 0, size, size);
  return ctx;
}

/** Pixel size of one cell for a grid of `side` in `available` CSS pixels. */
export function cellSize(side: number, available: number): number {
  const max = side <= 4 ? 72 : 48;
  return Math.max(24, Math.min(max, Math.floor(available / side)));
}

export function drawGrid(canvas: HTMLCanvasElement, cells: readonly CellView[], side: number, available: number, c: GridColours): void {
  const ctx = prepareCanvas(canvas, cellSize(side, available), side, c);
  if (!ctx) return;
  const cell = cellSize(side, available);
  const size = cell * side;
  const t = c.theme;
  const box = side === 9 ? 3 : side === 4 ? 2 : side;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  const mark = Math.max(9, Math.round(cell * 0.26));

  cells.forEach((v, i) => {
    const x = (i % side) * cell;
    const y = Math.floor(i / side) * cell;
    // Ground: neutral for givens, the model's confidence for predictions.
    ctx.fillStyle = v.given ? withAlpha(t.muted, 0.18) : withAlpha(c.shade, 0.06 + 0.44 * v.confidence);
    ctx.fillRect(x, y, cell, cell);
    // The digit.
    ctx.fillStyle = v.digit ? t.foreground : t.muted;
    ctx.font = `${v.given ? '700' : '400'} ${Math.round(cell * 0.5)}px ${c.digitFont}`;
    ctx.fillText(v.digit ? String(v.digit) : '·', x + cell / 2, y + cell / 2 + 1);
    // Right / wrong against the solution (a given only when the model predicts another digit there).
    const showMark = v.correct !== null && (!v.given || v.correct === false);
    if (showMark) {
      ctx.font = `700 ${mark}px ${t.font.replace(/^\S+\s+/, '')}`;
      ctx.fillStyle = v.correct ? c.right : c.wrong;
      ctx.fillText(v.correct ? '✓' : '✗', x + cell - mark * 0.6, y + mark * 0.7);
    }
    if (v.given && v.predicted !== v.digit) {
      // What the model predicts over a given, small, in the corner.
      ctx.font = `400 ${mark}px ${c.digitFont}`;
      ctx.fillStyle = c.wrong;
      ctx.fillText(v.predicted ? String(v.predicted) : '·', x + mark * 0.6, y + cell - mark * 0.7);
    }
    if (v.changed) {
      ctx.strokeStyle = c.changed;
      ctx.lineWidth = 2.5;
      ctx.strokeRect(x + 3, y + 3, cell - 6, cell - 6);
    }
  });

  // Lines: thin between cells, thick between boxes and around the grid.
  ctx.strokeStyle = withAlpha(t.foreground, 0.3);
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let k = 1; k < side; k++) {
    if (k % box === 0) continue;
    ctx.moveTo(k * cell + 0.5, 0); ctx.lineTo(k * cell + 0.5, size);
    ctx.moveTo(0, k * cell + 0.5); ctx.lineTo(size, k * cell + 0.5);
  }
  ctx.stroke();
  ctx.strokeStyle = t.foreground;
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let k = 0; k <= side; k += box) {
    ctx.moveTo(k * cell, 0); ctx.lineTo(k * cell, size);
    ctx.moveTo(0, k * cell); ctx.lineTo(size, k * cell);
  }
  ctx.stroke();
}

/** Pixel size of one maze cell for a maze of `side` in `available` CSS pixels (a 30x30 maze needs small cells). */
export function mazeCellSize(side: number, available: number): number {
  return Math.max(8, Math.min(side <= 10 ? 44 : 32, Math.floor(available / side)));
}

/**
 * A maze: walls dark, open cells on the background, S and G as letters, the predicted path as
 * cells shaded by the model's confidence (green dot: on the true path; red ✗: off it), a dashed
 * red ring on a true path cell the model left out, a red outline on a cell whose prediction
 * contradicts the maze (a wall not kept, an open cell predicted as wall), and the changed ring as
 * on the Sudoku grid.
 */
export function drawMaze(canvas: HTMLCanvasElement, cells: readonly MazeCellView[], side: number, available: number, c: GridColours): void {
  const ctx = prepareCanvas(canvas, mazeCellSize(side, available), side, c);
  if (!ctx) return;
  const cell = mazeCellSize(side, available);
  const size = cell * side;
  const t = c.theme;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  cells.forEach((v, i) => {
    const x = (i % side) * cell;
    const y = Math.floor(i / side) * cell;
    if (v.ground === 'wall') {
      ctx.fillStyle = withAlpha(t.foreground, 0.72);
      ctx.fillRect(x, y, cell, cell);
      // A wall the model does not predict as a wall.
      if (v.broken) {
        ctx.strokeStyle = c.wrong;
        ctx.lineWidth = 2;
        ctx.strokeRect(x + 1.5, y + 1.5, cell - 3, cell - 3);
      }
      return;
    }
    if (v.predictedPath) {
      ctx.fillStyle = withAlpha(v.mark === 'extra' ? c.wrong : c.shade, 0.2 + 0.6 * v.confidence);
      ctx.fillRect(x, y, cell, cell);
    }
    if (v.ground === 'start' || v.ground === 'goal') {
      ctx.fillStyle = withAlpha(c.right, 0.3);
      ctx.fillRect(x, y, cell, cell);
      ctx.fillStyle = t.foreground;
      ctx.font = `700 ${Math.round(cell * 0.62)}px ${c.digitFont}`;
      ctx.fillText(v.ground === 'start' ? 'S' : 'G', x + cell / 2, y + cell / 2 + 1);
    } else if (v.mark === 'right') {
      ctx.fillStyle = c.right;
      ctx.beginPath();
      ctx.arc(x + cell / 2, y + cell / 2, Math.max(2, cell * 0.18), 0, 2 * Math.PI);
      ctx.fill();
    } else if (v.mark === 'extra') {
      ctx.fillStyle = c.wrong;
      ctx.font = `700 ${Math.max(8, Math.round(cell * 0.6))}px ${t.font.replace(/^\S+\s+/, '')}`;
      ctx.fillText('✗', x + cell / 2, y + cell / 2 + 1);
    } else if (v.mark === 'missing') {
      ctx.strokeStyle = c.wrong;
      ctx.lineWidth = Math.max(1.5, cell * 0.08);
      ctx.setLineDash([Math.max(2, cell * 0.15), Math.max(2, cell * 0.1)]);
      ctx.beginPath();
      ctx.arc(x + cell / 2, y + cell / 2, cell * 0.3, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (v.broken) {
      // An open cell predicted as wall / S / G, or S / G not kept.
      ctx.strokeStyle = c.wrong;
      ctx.lineWidth = 2;
      ctx.strokeRect(x + 1.5, y + 1.5, cell - 3, cell - 3);
    }
    if (v.changed && cell >= 12) {
      ctx.strokeStyle = c.changed;
      ctx.lineWidth = 2;
      ctx.strokeRect(x + 2, y + 2, cell - 4, cell - 4);
    }
  });
  // Faint cell lines, and the outline.
  ctx.strokeStyle = withAlpha(t.foreground, 0.12);
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let k = 1; k < side; k++) {
    ctx.moveTo(k * cell + 0.5, 0); ctx.lineTo(k * cell + 0.5, size);
    ctx.moveTo(0, k * cell + 0.5); ctx.lineTo(size, k * cell + 0.5);
  }
  ctx.stroke();
  ctx.strokeStyle = t.foreground;
  ctx.lineWidth = 2;
  ctx.strokeRect(0, 0, size, size);
}
