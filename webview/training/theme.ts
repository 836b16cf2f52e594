// Colours and font from the VS Code theme (the --vscode-* variables VS Code sets on <html>),
// re-read whenever the theme changes (VS Code swaps the body class and rewrites those variables).

export interface Theme {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  font: string;
  /** Stable colours for runs, in palette order. */
  palette: string[];
  kind: 'light' | 'dark' | 'high-contrast';
}

const fallbackPalette = ['#3794ff', '#f14c4c', '#89d185', '#cca700', '#d18616', '#b180d7'];
const paletteVars = ['--vscode-charts-blue', '--vscode-charts-red', '--vscode-charts-green', '--vscode-charts-yellow', '--vscode-charts-orange', '--vscode-charts-purple'];

export function readTheme(): Theme {
  const root = getComputedStyle(document.documentElement);
  const body = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => root.getPropertyValue(name).trim() || body.getPropertyValue(name).trim() || fallback;
  const cls = document.body.classList;
  const kind = cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light') ? 'high-contrast' : cls.contains('vscode-light') ? 'light' : 'dark';
  const foreground = v('--vscode-editor-foreground', kind === 'light' ? '#333333' : '#cccccc');
  return {
    foreground,
    muted: v('--vscode-descriptionForeground', foreground),
    grid: v('--vscode-charts-lines', kind === 'light' ? 'rgba(0,0,0,0.12)' : 'rgba(255,255,255,0.12)'),
    background: v('--vscode-editor-background', kind === 'light' ? '#ffffff' : '#1e1e1e'),
    font: `${v('--vscode-font-size', '12px')} ${v('--vscode-font-family', 'sans-serif')}`,
    palette: paletteVars.map((p, i) => v(p, fallbackPalette[i]!)),
    kind,
  };
}

/** `css` colour with alpha `a` (any CSS colour syntax, via the canvas' own parser). */
export function withAlpha(css: string, a: number): string {
  const ctx = alphaCtx ??= document.createElement('canvas').getContext('2d');
  if (!ctx) return css;
  ctx.fillStyle = '#000';
  ctx.fillStyle = css;
  const c = ctx.fillStyle; // "#rrggbb" or "rgba(r, g, b, a)"
  if (c.startsWith('#') && c.length === 7) {
    const r = parseInt(c.slice(1, 3), 16);
    const g = parseInt(c.slice(3, 5), 16);
    const b = parseInt(c.slice(5, 7), 16);
    return `rgba(${r}, ${g}, ${b}, ${a})`;
  }
  const m = /rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(c);
  return m ? `rgba(${m[1]!.trim()}, ${m[2]!.trim()}, ${m[3]!.trim()}, ${a})` : css;
}
let alphaCtx: CanvasRenderingContext2D | null | undefined;

/** Calls `onChange` when VS Code switches the theme. Returns a function that stops watching. */
export function watchTheme(onChange: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, 50);
  };
  const mo = new MutationObserver(fire);
  mo.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id'] });
  mo.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return () => mo.disconnect();
}
