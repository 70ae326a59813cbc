import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ActivationsResult, CamMethod, ColormapName, GradCamResult } from '../../../src-shared/explain-types.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, numberFlag, parse, progressBar } from '../common.ts';
import { engineLabel } from '../../core/engine/backend.ts';
import { streamActivations, type OnLayer } from '../../core/explain/activations.ts';
import { explainImage as explainBoth } from '../../core/explain/explain-image.ts';
import { openExplainModel, prepareImage, type ExplainModel, type PreparedImage } from '../../core/explain/explain-model.ts';
import { gradCam } from '../../core/explain/gradcam.ts';
import { activationGridPng, heatmapPng, overlayPng } from '../../core/explain/render.ts';
import { auditFolder, DEFAULT_CORNER, DEFAULT_LUNG_BOX, scoreGradCam } from '../../core/explain/shortcut-audit.ts';
import { familiarityMeter, unfamiliarDetail } from '../../core/familiarity/familiarity.ts';
import { writeFileAtomic } from '../../core/fs/atomic-write.ts';

const usage = `usage: cxr explain <image> --out DIR [--model ID|DIR] [--layers all|NAME,…] [--gradcam]
                   [--layer NAME] [--class predicted|NAME] [--method gradcam|gradcam++]
                   [--opacity 0.4] [--colormap viridis|inferno] [--backend …] [--models-dir DIR]
       cxr explain --audit <folder> [--model ID|DIR] [--max-outside 0.5] [--layer NAME]
                   [--class predicted|NAME] [--method gradcam|gradcam++] [--out report.json]

Shows what the model computes for one image (research aid, not for diagnostic use):
  --layers all|NAME,…  one PNG per layer with a spatial map (all channels tiled, each scaled to its
                       own min–max, viridis), named NN-LAYER.png, plus layers.json
  --gradcam            Grad-CAM for the predicted class (--class to choose) at the last convolution
                       layer (--layer to choose): overlay.png (original size, --opacity of the
                       colour map), heatmap.png (grey, original size) and heatmap.json (the raw grid)
With neither flag both are written. An image the model's familiarity check would refuse (cxr classify:
UNFAMILIAR) is explained all the same, with a warning.
--audit runs Grad-CAM over every image under a folder and lists the cases where most of the
heatmap lies outside the lung box (x 15–85 %, y 10–90 % of the image), worst first, with the share
in the four corner boxes (15 % × 15 %, where burned-in markers sit). Exit 2 when files failed.`;

const METHODS: CamMethod[] = ['gradcam', 'gradcam++'];
const COLORMAPS: ColormapName[] = ['viridis', 'inferno'];

function oneOf<T extends string>(value: string | undefined, allowed: T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

function safeName(layer: string): string {
  return layer.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

function pct(v: number): string {
  return `${(100 * v).toFixed(0).padStart(3)} %`;
}

async function explainImage(io: CliIO, ref: ExplainModel, image: string, prepared: PreparedImage, out: string, o: {
  layers?: 'all' | string[]; gradcam: boolean; layer?: string; targetClass?: string; method?: CamMethod; opacity?: number; colormap?: ColormapName;
}): Promise<void> {
  await fsp.mkdir(out, { recursive: true });
  const written: Array<{ layer: string; className: string; shape: number[]; file: string; min: number; max: number }> = [];
  const onLayer: OnLayer = async (m, i, total) => {
    const file = `${String(i + 1).padStart(2, '0')}-${safeName(m.layer)}.png`;
    await writeFileAtomic(path.join(out, file), await activationGridPng(m, { colormap: o.colormap }));
    written.push({ layer: m.layer, className: m.className, shape: m.shape, file, min: Math.min(...m.min), max: Math.max(...m.max) });
    io.err(`layer ${i + 1}/${total}: ${m.layer} (${m.className}) ${m.shape.join('×')} → ${file}`);
  };
  const camOptions = { layer: o.layer, targetClass: o.targetClass, method: o.method };
  // Both asked for: one decode and one forward pass (Grad-CAM takes its layer's output from the activations pass).
  let activations: Omit<ActivationsResult, 'layers'> | undefined;
  let cam: GradCamResult | undefined;
  if (o.layers && o.gradcam) ({ activations, cam } = await explainBoth(ref, prepared, onLayer, { layers: o.layers, cam: camOptions }));
  else if (o.layers) activations = await streamActivations(ref, prepared, onLayer, { layers: o.layers });
  else if (o.gradcam) cam = await gradCam(ref, prepared, camOptions);
  if (activations) {
    const r = activations;
    await writeFileAtomic(path.join(out, 'layers.json'), JSON.stringify({ image, modelId: r.modelId, probability: r.probability, label: r.label, layers: written }, null, 2) + '\n');
    io.out(`activations: ${written.length} layer(s) in ${r.milliseconds.toFixed(0)} ms; P(${ref.metadata.positiveClass}) = ${r.probability.toFixed(4)} → ${r.label}`);
  }
  if (cam) {
    const r = cam;
    await writeFileAtomic(path.join(out, 'overlay.png'), await overlayPng(r, image, { opacity: o.opacity, colormap: o.colormap }));
    await writeFileAtomic(path.join(out, 'heatmap.png'), await heatmapPng(r));
    const shortcut = scoreGradCam(r);
    const json = { ...r, cam: Array.from(r.cam, (v) => Math.round(v * 1e5) / 1e5), image: { path: image, ...r.image }, shortcut, box: DEFAULT_LUNG_BOX, corner: DEFAULT_CORNER };
    await writeFileAtomic(path.join(out, 'heatmap.json'), JSON.stringify(json) + '\n');
    io.out(`grad-cam (${r.method}) at ${r.layer} ${r.layerShape.join('×')} for ${r.targetClass} (P = ${r.targetProbability.toFixed(4)}) in ${r.milliseconds.toFixed(0)} ms; outside lung box ${pct(shortcut.outside)}, corners ${pct(shortcut.cornerTotal)}`);
    if (r.camMax === 0) {
      io.err(`note: the heatmap is empty: at ${r.layer} no region adds evidence for ${r.targetClass} (the weighted activations are ≤ 0 everywhere); try --method gradcam++ or another --layer`);
    }
    io.out(`wrote overlay.png, heatmap.png, heatmap.json to ${out}`);
  }
}

export const explainCommand: Command = {
  name: 'explain',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...engineOptions,
      model: { type: 'string' },
      out: { type: 'string' },
      layers: { type: 'string' },
      gradcam: { type: 'boolean' },
      layer: { type: 'string' },
      class: { type: 'string' },
      method: { type: 'string' },
      opacity: { type: 'string' },
      colormap: { type: 'string' },
      audit: { type: 'string' },
      'max-outside': { type: 'string' },
    });
    const method = oneOf(values.method, METHODS, '--method');
    const colormap = oneOf(values.colormap, COLORMAPS, '--colormap');
    const opacity = numberFlag(values.opacity, '--opacity', 0, 1);
    const maxOutside = numberFlag(values['max-outside'], '--max-outside', 0, 1);
    const targetClass = values.class;
    if (values.audit !== undefined) {
      if (positionals.length) throw new UsageError(`--audit takes one folder; remove the extra argument(s) ${positionals.join(' ')}`);
      if (values.out && !/\.json$/i.test(values.out)) throw new UsageError(`--out ${values.out}: with --audit, use a file name ending in .json`);
      const stat = await fsp.stat(values.audit).catch(() => null);
      if (!stat?.isDirectory()) throw new UsageError(`--audit ${values.audit}: not a folder; name a folder of .jpg/.jpeg/.png images`);
      const engine = await engineFromFlags(values.backend);
      const ref = await openExplainModel(values.model, { modelsDir: values['models-dir'] });
      io.err(`model ${ref.metadata.id}; engine ${engineLabel(engine)}`);
      const bar = progressBar(io, 'auditing');
      const report = await auditFolder(ref, values.audit, { maxOutside, method, layer: values.layer, targetClass, onProgress: (d, t) => bar.update(d, t) });
      io.out(`shortcut audit of ${report.cases.length} image(s) at ${report.layer}: ${report.flagged} looked mostly outside the lung box (> ${pct(report.maxOutside).trim()} of the Grad-CAM mass)`);
      io.out('outside  corners  P(pos)  label      file');
      for (const c of report.cases) {
        if (!c.flagged) continue;
        io.out(`${pct(c.score.outside)}    ${pct(c.score.cornerTotal)}  ${c.probability.toFixed(3)}  ${c.label.padEnd(10)} ${c.path}`);
      }
      const far = report.cases.filter((c) => c.unfamiliar);
      if (far.length) io.err(`warning: ${far.length} image(s) are unlike the chest X-rays ${ref.metadata.id} was trained on (e.g. ${far[0].path}: ${far[0].unfamiliar}); cxr classify would refuse them, so their heatmaps mean little (unfamiliar in --out)`);
      const empty = report.cases.filter((c) => c.score.empty).length;
      if (empty) io.err(`note: ${empty} image(s) had an empty heatmap (no positive evidence at ${report.layer}); they are not flagged`);
      for (const f of report.failures) io.err(`error: ${f.reason}`);
      if (values.out) {
        await writeFileAtomic(values.out, JSON.stringify(report, null, 2) + '\n');
        io.err(`report written to ${values.out}`);
      }
      io.err(`${report.failures.length} file(s) failed; done in ${(report.milliseconds / 1000).toFixed(1)} s`);
      return report.failures.length ? 2 : 0;
    }
    if (positionals.length !== 1) throw new UsageError('name one image file (or use --audit <folder>)');
    if (!values.out) throw new UsageError('--out DIR is required: the folder to write the figures into');
    if (values['max-outside'] !== undefined) throw new UsageError('--max-outside only applies with --audit');
    const both = values.layers === undefined && !values.gradcam;
    const layers = values.layers === undefined ? (both ? 'all' : undefined) : values.layers === 'all' ? 'all' : values.layers.split(',').map((s) => s.trim()).filter(Boolean);
    if (Array.isArray(layers) && layers.length === 0) throw new UsageError('--layers needs "all" or layer names separated by commas');
    const engine = await engineFromFlags(values.backend);
    const ref = await openExplainModel(values.model, { modelsDir: values['models-dir'] });
    io.err(`model ${ref.metadata.id}; engine ${engineLabel(engine)}`);
    const prepared = await prepareImage(positionals[0], ref.metadata.input);
    const far = unfamiliarDetail(ref.metadata.familiarity, familiarityMeter(ref.model, ref.metadata)?.(prepared.data), ref.metadata.id);
    if (far) io.err(`warning: ${path.basename(positionals[0])} is unlike the chest X-rays this model was trained on (${far}); cxr classify would refuse it, so its probability and heatmap below mean little`);
    await explainImage(io, ref, positionals[0], prepared, values.out, {
      layers, gradcam: both || Boolean(values.gradcam), layer: values.layer, targetClass, method, opacity, colormap,
    });
    io.err('Research software, not for diagnostic use.');
    return 0;
  },
};
