// A uPlot path builder for lines that were already min/max downsampled to the pixel width: one
// lineTo per point with the scale maths inlined. uPlot's own linear builder re-buckets the points
// per pixel column through closures per point, which is most of the panel's draw time when a
// chart overlays many series (3 runs × 18 series). Not for band edges (they need uPlot's band
// clips); the arm bands keep uPlot's builder.
import type uPlot from 'uplot';

export const polylinePath: uPlot.Series.PathBuilder = (u, seriesIdx, idx0, idx1) => {
  const xs = u.data[0];
  const ys = u.data[seriesIdx]!;
  const sx = u.scales['x']!;
  const sy = u.scales[u.series[seriesIdx]!.scale ?? 'y']!;
  const { left, top, width, height } = u.bbox;
  const log = sy.distr === 3;
  const xMin = sx.min!;
  const kx = width / (sx.max! - xMin);
  const yTop = log ? Math.log10(sy.max!) : sy.max!;
  const ky = height / (yTop - (log ? Math.log10(sy.min!) : sy.min!));
  const stroke = new Path2D();
  let started = false;
  for (let i = idx0; i <= idx1; i++) {
    const y = ys[i];
    if (y == null) continue;
    // Whole canvas pixels, as uPlot's pxAlign does for its own lines.
    const px = Math.round(left + (xs[i]! - xMin) * kx);
    const py = Math.round(top + (yTop - (log ? Math.log10(y) : y)) * ky);
    if (started) stroke.lineTo(px, py);
    else {
      stroke.moveTo(px, py);
      started = true;
    }
  }
  return { stroke, fill: null, clip: null, band: null, flags: 0 };
};
