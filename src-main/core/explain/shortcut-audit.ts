/**
 * Shortcut check: does the model look at the lungs? For each image, the share of Grad-CAM mass
 * outside a central lung box and in the four corners, where burned-in text markers ("L", "R",
 * hospital labels) sit in chest X-rays and where a model can find a shortcut to the label.
 *
 * The lung box (fractions of the image width/height): x 15–85 %, y 10–90 %. On a PA/AP chest film
 * the lungs and the heart lie inside it; the outer bands hold the arms, shoulders, neck, the
 * abdomen and the markers. The corner boxes are 15 % of the width × 15 % of the height. Both are
 * deliberately generous: a case is flagged only when most of the mass (> maxOutside, default 0.5)
 * lies outside the box. Mass is measured on the heatmap mapped onto the original image (see
 * heatmap.ts), sampled on a grid of at most 256 px a side.
 */
import type { AuditCase, AuditReport, LungBox, ShortcutScore } from '../../../src-shared/explain-types.ts';
import { listImageFiles } from '../dataset/list-files.ts';
import { familiarityMeter, unfamiliarDetail } from '../familiarity/familiarity.ts';
import { toFileFailure } from '../imaging/image-error.ts';
import { prepareImage, type ExplainModel } from './explain-model.ts';
import { gradCam, resolveCamLayer, type GradCamOptions } from './gradcam.ts';
import { camOnImage, type CamGrid } from './heatmap.ts';

/** The central lung box: x 15–85 %, y 10–90 % of the image. */
export const DEFAULT_LUNG_BOX: LungBox = { x0: 0.15, x1: 0.85, y0: 0.1, y1: 0.9 };
/** Corner boxes are this fraction of the width × this fraction of the height. */
export const DEFAULT_CORNER = 0.15;
/** Cases with more than this share of the mass outside the lung box are flagged. */
export const DEFAULT_MAX_OUTSIDE = 0.5;

/** Where the mass of a heatmap (w × h, row-major, non-negative) lies. */
export function shortcutScore(heat: ArrayLike<number>, w: number, h: number, box: LungBox = DEFAULT_LUNG_BOX, corner = DEFAULT_CORNER): ShortcutScore {
  let total = 0;
  let inside = 0;
  const c = { topLeft: 0, topRight: 0, bottomLeft: 0, bottomRight: 0 };
  for (let y = 0; y < h; y++) {
    const fy = (y + 0.5) / h;
    const inY = fy >= box.y0 && fy <= box.y1;
    const top = fy < corner;
    const bottom = fy > 1 - corner;
    for (let x = 0; x < w; x++) {
      const v = heat[y * w + x];
      if (!(v > 0)) continue;
      const fx = (x + 0.5) / w;
      total += v;
      if (inY && fx >= box.x0 && fx <= box.x1) inside += v;
      const left = fx < corner;
      const right = fx > 1 - corner;
      if (top && left) c.topLeft += v;
      else if (top && right) c.topRight += v;
      else if (bottom && left) c.bottomLeft += v;
      else if (bottom && right) c.bottomRight += v;
    }
  }
  if (total === 0) return { outside: 0, corners: c, cornerTotal: 0, empty: true };
  const corners = { topLeft: c.topLeft / total, topRight: c.topRight / total, bottomLeft: c.bottomLeft / total, bottomRight: c.bottomRight / total };
  return {
    outside: 1 - inside / total,
    corners,
    cornerTotal: corners.topLeft + corners.topRight + corners.bottomLeft + corners.bottomRight,
    empty: false,
  };
}

/** The shortcut score of a Grad-CAM result, measured on the original image's geometry. */
export function scoreGradCam(r: CamGrid, box: LungBox = DEFAULT_LUNG_BOX, corner = DEFAULT_CORNER): ShortcutScore {
  const s = Math.min(1, 256 / Math.max(r.image.width, r.image.height));
  const w = Math.max(1, Math.round(r.image.width * s));
  const h = Math.max(1, Math.round(r.image.height * s));
  return shortcutScore(camOnImage(r, w, h), w, h, box, corner);
}

/** Options for `auditFolder`. */
export interface AuditOptions extends Pick<GradCamOptions, 'layer' | 'method' | 'targetClass'> {
  maxOutside?: number;
  box?: LungBox;
  corner?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs Grad-CAM on every .jpg/.jpeg/.png under `folder` (recursively) and reports the cases where
 * the model looked mostly outside the lung box, worst first. Bad images become failures; the
 * batch goes on.
 */
export async function auditFolder(ref: ExplainModel, folder: string, opts: AuditOptions = {}): Promise<AuditReport> {
  const t0 = performance.now();
  const box = opts.box ?? DEFAULT_LUNG_BOX;
  const corner = opts.corner ?? DEFAULT_CORNER;
  const maxOutside = opts.maxOutside ?? DEFAULT_MAX_OUTSIDE;
  const layer = resolveCamLayer(ref, opts.layer);
  const method = opts.method ?? 'gradcam';
  const { files, failures } = await listImageFiles([folder]);
  const cases: AuditCase[] = [];
  const distanceOf = familiarityMeter(ref.model, ref.metadata);
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    try {
      const prepared = await prepareImage(file, ref.metadata.input);
      const r = await gradCam(ref, prepared, { layer, method, targetClass: opts.targetClass });
      const score = scoreGradCam(r, box, corner);
      const unfamiliar = unfamiliarDetail(ref.metadata.familiarity, distanceOf?.(prepared.data), ref.metadata.id);
      cases.push({ path: file, probability: r.probability, label: r.label, targetClass: r.targetClass, score, flagged: score.outside > maxOutside, ...(unfamiliar ? { unfamiliar } : {}) });
    } catch (e) {
      failures.push(toFileFailure(e, file));
    }
    opts.onProgress?.(i + 1, files.length);
  }
  cases.sort((a, b) => b.score.outside - a.score.outside || b.score.cornerTotal - a.score.cornerTotal || a.path.localeCompare(b.path));
  return {
    modelId: ref.metadata.id, folder, layer, method, box, corner, maxOutside, cases,
    flagged: cases.filter((c) => c.flagged).length, failures, milliseconds: performance.now() - t0,
  };
}
