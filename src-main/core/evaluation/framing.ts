/**
 * Framing check: how a model's outputs move when every image of a folder is framed tighter (the chest
 * fills more of the input, as on a study collimated or cropped tighter than the training images). The
 * default model is sensitive to this (see its card), so a site can measure it on its own labelled images.
 */
import { auc, confusion } from './metrics.ts';

/** Usual vs tighter framing, at the model's threshold. */
export interface FramingCheck {
  /** The input was brought to `zoom` times its size and its centre kept (1.1 = 10 % tighter). */
  zoom: number;
  threshold: number;
  /** Images scored both ways. */
  n: number;
  auc: { usual: number; zoomed: number };
  sensitivity: { usual: number; zoomed: number };
  specificity: { usual: number; zoomed: number };
  /** Per true class: images whose label changes at the threshold, and the mean logit both ways. */
  classes: Record<string, { n: number; flips: number; meanLogit: { usual: number; zoomed: number } }>;
}

const logit = (p: number) => {
  const q = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
  return Math.log(q / (1 - q));
};

/**
 * Compares two scorings of the same images (paired by path; images missing from either are left out).
 * `classNames` is [negative, positive]; labels are 0/1.
 */
export function framingCheck(
  usual: ReadonlyArray<{ path: string; label: number; probability: number }>,
  zoomed: ReadonlyArray<{ path: string; probability: number }>,
  threshold: number,
  zoom: number,
  classNames: readonly [string, string],
): FramingCheck {
  const other = new Map(zoomed.map((z) => [z.path, z.probability]));
  const both = usual.filter((u) => other.has(u.path));
  const labels = both.map((u) => u.label);
  const a = both.map((u) => u.probability);
  const b = both.map((u) => other.get(u.path)!);
  const rates = (s: number[]) => {
    const c = confusion(labels, s, threshold);
    return { sens: c.tp / (c.tp + c.fn), spec: c.tn / (c.tn + c.fp) };
  };
  const [ra, rb] = [rates(a), rates(b)];
  const classes: FramingCheck['classes'] = {};
  classNames.forEach((name, y) => {
    const idx = labels.flatMap((l, i) => (l === y ? [i] : []));
    const mean = (s: number[]) => idx.reduce((t, i) => t + logit(s[i]), 0) / idx.length;
    classes[name] = { n: idx.length, flips: idx.filter((i) => (a[i] >= threshold) !== (b[i] >= threshold)).length, meanLogit: { usual: mean(a), zoomed: mean(b) } };
  });
  return {
    zoom,
    threshold,
    n: both.length,
    auc: { usual: auc(labels, a), zoomed: auc(labels, b) },
    sensitivity: { usual: ra.sens, zoomed: rb.sens },
    specificity: { usual: ra.spec, zoomed: rb.spec },
    classes,
  };
}

/** Two lines for a terminal: the metrics both ways and the per-class shift. */
export function describeFramingCheck(f: FramingCheck): string[] {
  const n3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
  const n2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  const pct = Math.round((f.zoom - 1) * 100);
  return [
    `framing ${pct} % tighter (zoom ${f.zoom}): AUC ${n3(f.auc.usual)} → ${n3(f.auc.zoomed)}, sensitivity ${n3(f.sensitivity.usual)} → ${n3(f.sensitivity.zoomed)}, specificity ${n3(f.specificity.usual)} → ${n3(f.specificity.zoomed)} at ${n3(f.threshold)}`,
    `  ${Object.entries(f.classes).map(([name, c]) => `${name}: ${c.flips} of ${c.n} change label, mean logit ${n2(c.meanLogit.usual)} → ${n2(c.meanLogit.zoomed)}`).join('; ')}`,
  ];
}
