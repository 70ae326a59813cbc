import type { EvaluationSummary, ModelMetadata } from '../../../src-shared/types.ts';
import { describeFormSignal } from '../dataset/form-signals.ts';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

function metricsTable(m: EvaluationSummary): string {
  const row = (name: string, v: { value: number; ci95: [number, number] }, f: (x: number) => string) =>
    `| ${name} | ${f(v.value)} | ${f(v.ci95[0])} – ${f(v.ci95[1])} |`;
  return [
    `${m.dataset}: ${m.n} images (${m.positives} PNEUMONIA, ${m.n - m.positives} NORMAL), threshold ${m.threshold.toFixed(3)}.`,
    '',
    '| metric | value | 95% CI |',
    '|---|---|---|',
    row('AUC', m.auc, num),
    row('accuracy', m.accuracy, pct),
    row('sensitivity (PNEUMONIA recall)', m.sensitivity, pct),
    row('specificity (NORMAL recall)', m.specificity, pct),
    '',
    'Intervals: Wilson score for proportions, stratified percentile bootstrap (1,000 resamples, seed 7) for AUC.',
  ].join('\n');
}

/** Renders MODEL_CARD.md from a model's metadata. */
export function renderModelCard(md: ModelMetadata): string {
  const t = md.training;
  const lines: string[] = [
    `# Model card: ${md.name} (\`${md.id}\` v${md.version})`,
    '',
    '> **Research software, not for diagnostic use.** This model triages pediatric chest X-rays as NORMAL or PNEUMONIA to support, never replace, a qualified reader.',
    '',
    '## Model',
    `- Architecture: \`${md.architecture}\`, ${md.parameters.toLocaleString('en-US')} parameters, sigmoid output P(${md.positiveClass}).`,
    `- Input: ${md.input.width}×${md.input.height}, ${md.input.channels} channel(s), resize \`${md.input.resize}\`, scaling \`${md.input.scaling}\`${md.input.sourceForm ? `; an image whose long side exceeds ${md.input.sourceForm.maxSide} px is first shrunk to ${md.input.sourceForm.maxSide} px and round-tripped through JPEG quality ${md.input.sourceForm.jpegQuality}, the form of the training images` : ''}${md.input.tone === 'equalize' ? '; each image\'s grey-level histogram is equalized after resizing' : md.input.tone === 'median' ? '; each image\'s exposure is normalised after resizing (a gamma curve bringing its median grey level to 128)' : ''}${md.input.toneByChannel ? `; each channel holds the grey image with its own tone (${md.input.toneByChannel.map((t) => (t === 'none' ? 'as decoded' : t === 'equalize' ? 'histogram-equalized' : 'median grey brought to 128')).join(', ')}), and each member reads the one it was trained with` : ''}.`,
    `- Decision threshold: ${md.threshold.toFixed(3)} — ${md.thresholdChosenBy}.`,
    `- Weights sha256: \`${md.weightsSha256}\`; created ${md.created}.`,
    '',
    '## Data and licence',
    'Kermany, Zhang, Goldbaum et al., "Identifying Medical Diagnoses and Treatable Diseases by Image-Based Deep Learning", Cell 172(5):1122–1131, 2018; data: Mendeley Data rscbjbr9sj, licence CC BY 4.0. Pediatric (1–5 years) anterior-posterior chest X-rays from Guangzhou Women and Children\'s Medical Center.',
  ];
  const extra: string[] = [];
  const ws = md.weightStorage;
  if (ws && ws.dtype !== 'float32') extra.push(`- Weights stored as ${ws.dtype === 'uint8' ? '8-bit' : ws.dtype === 'uint16' ? '16-bit' : '8- and 16-bit'} integers: ${ws.quantizedTensors ?? '?'} kernels${ws.dtype === 'mixed' ? ` (${ws.uint16Tensors ?? '?'} of them in 16 bits, where 8 bits would lose over 0.5 % of the kernel)` : ''}, each with its own affine map (TensorFlow.js quantisation; biases and BatchNorm stay float32)${ws.weightBytes != null ? `, weights.bin ${(ws.weightBytes / 1e6).toFixed(1)} MB` : ''}${ws.maxAbsError != null ? `; largest change of a weight ${ws.maxAbsError.toExponential(1)}` : ''}. All metrics below were measured with these stored weights unless they predate the change.`);
  const op = md.operatingPoint;
  if (op) extra.push(`- Operating point: rule ${op.rule}${op.target != null ? ` ${op.target}` : ''} on \`${op.dataset}\` (${op.n} images, ${op.positives} ${md.positiveClass}), ${op.chosenAt}; expected sensitivity ${pct(op.expectedSensitivity)}, specificity ${pct(op.expectedSpecificity)}${op.calibrated ? ' (on calibrated probabilities)' : ''}.`);
  const cal = md.calibration;
  if (cal) extra.push(`- Calibration: ${cal.method === 'platt' ? `Platt scaling σ(${num(cal.a ?? 1)}·logit p + ${num(cal.b ?? 0)})` : `temperature scaling T = ${num(cal.temperature ?? 1)}`}, fitted on \`${cal.fittedOn}\` (${cal.n} images); the reported probabilities are calibrated.`);
  const fam = md.familiarity;
  if (fam) extra.push(`- Familiarity check: an image is refused as UNFAMILIAR, not scored, when its \`${fam.layer}\` feature lies further than ${fam.limit.toFixed(3)} (cosine distance) from the mean feature of the ${fam.fittedOn.n} images of \`${fam.fittedOn.dataset}\` it was fitted on; the limit is ${fam.limitFrom.margin} × the largest distance (${fam.limitFrom.largest.toFixed(3)}) among ${fam.limitFrom.n} images of \`${fam.limitFrom.dataset}\` it was not fitted on (\`cxr familiarity\`, ${fam.chosenAt}). It turns away pictures that are not chest X-rays; it is no proof that an accepted image is one.${fam.command ? ` Reproduce with \`${fam.command}\`.` : ''}`);
  lines.splice(lines.findIndex((l) => l.startsWith('- Weights sha256')) + 1, 0, ...extra);
  if (t) {
    lines.push('', '| split | ' + Object.keys(Object.values(t.counts)[0] ?? {}).join(' | ') + ' |', '|---|' + Object.keys(Object.values(t.counts)[0] ?? {}).map(() => '---|').join(''));
    for (const [split, c] of Object.entries(t.counts)) lines.push(`| ${split} | ${Object.values(c).join(' | ')} |`);
    if (t.data) {
      lines.push('', 'Exactly which images (content sha256, label, path) is listed in `training-data.csv` beside the model; fingerprints (sha256 of the sorted content hashes):');
      for (const [part, d] of Object.entries(t.data)) lines.push(`- ${part}: ${d.files} images, \`${d.sha256}\``);
    }
    lines.push(
      '',
      'The test split is never used for training, model selection or the threshold.',
      '',
      '## Training recipe',
      `- Seed ${t.seed}, backend \`${t.backend}\`, ${t.epochs} epochs run, best epoch ${t.bestEpoch}, ${(t.durationSeconds / 60).toFixed(1)} minutes.`,
      `- Hyperparameters: \`${JSON.stringify(t.hyperparameters)}\``,
      '- Reproduce with:',
      '',
      '```sh',
      t.command,
      '```',
      '',
      '| epoch | train loss | selection loss | selection AUC | learning rate |',
      '|---|---|---|---|---|',
      ...t.history.map((h) => `| ${h.epoch} | ${num(h.loss)} | ${num(h.valLoss)} | ${num(h.valAuc)} | ${h.learningRate} |`),
    );
  }
  const ens = md.ensemble;
  if (ens) {
    lines.push(
      '',
      '## Ensemble',
      `- Combination: ${ens.combination}.`,
      '',
      '| member | name | architecture | input | version | weights sha256 |',
      '|---|---|---|---|---|---|',
      ...ens.members.map((m) => `| \`${m.id}\` | ${m.name} | \`${m.architecture}\` | ${m.input.width}×${m.input.height}×${m.input.channels} | ${m.version} | \`${m.weightsSha256.slice(0, 12)}…\`${m.calibrated ? ' (calibrated)' : ''} |`),
      '',
      'Each member\'s own model card gives its training data and recipe. Reproduce with:',
      '',
      '```sh',
      ens.command,
      '```',
    );
  }
  if (md.metrics && Object.keys(md.metrics).length) {
    lines.push('', '## Metrics');
    for (const m of Object.values(md.metrics)) lines.push('', metricsTable(m));
  }
  lines.push(
    '',
    '## Intended use',
    '- Triage and research on pediatric AP chest X-rays similar to the training data; a human reads every study.',
    '- Not validated for adults, PA/lateral views, other hospitals\' equipment, or other findings (e.g. COVID-19, tuberculosis, effusion).',
    '',
    '## Limitations',
    '- Trained and tested on one centre\'s data: expect lower accuracy elsewhere (dataset shift).',
    '- The official test split is small and drawn from the same centre; the confidence intervals above are wide.',
    '- Burned-in markers and image size correlate with the label in this dataset; images are resized before the model, but check heatmaps for shortcut learning.',
  );
  for (const s of t?.formSignals?.filter((x) => x.flagged) ?? []) lines.push(`- In the training images, ${describeFormSignal(s, md.input)}.`);
  if (md.notes) lines.push('', '## Notes', md.notes);
  return lines.join('\n') + '\n';
}
