/** Fits optional calibration and chooses the threshold on validation scores, giving the model's new metadata. */
import type { CalibrationParams, ModelMetadata } from '../../../src-shared/types.ts';
import { calibrate, fitPlatt, fitTemperature } from './calibrate.ts';
import { chooseOperatingPoint, describeRule, type OperatingPoint, type OperatingRule } from './operating-point.ts';

/** What to fit, on which validation data. */
export interface OperatingPointRequest {
  rule: OperatingRule;
  calibrate?: 'platt' | 'temperature';
  /** Folder (or name) of the validation data, recorded in the metadata. */
  dataset: string;
  labels: number[];
  /** Raw model output P(positive), before any calibration. */
  rawProbabilities: number[];
  at?: string;
}

/**
 * Fits calibration (when asked) on the raw validation output, chooses the threshold on the
 * (calibrated) probabilities, and returns metadata carrying threshold, rule, data and expected rates.
 * Without `calibrate`, any previous calibration is removed (the threshold is on raw probabilities).
 */
export function withOperatingPoint(md: ModelMetadata, r: OperatingPointRequest): { metadata: ModelMetadata; point: OperatingPoint } {
  let calibration: CalibrationParams | undefined;
  if (r.calibrate) {
    const fit = r.calibrate === 'platt' ? fitPlatt(r.labels, r.rawProbabilities) : fitTemperature(r.labels, r.rawProbabilities);
    calibration = { ...fit, fittedOn: r.dataset, n: r.labels.length };
  }
  const probs = r.rawProbabilities.map((p) => calibrate(calibration, p));
  const point = chooseOperatingPoint(r.labels, probs, r.rule);
  const positives = r.labels.filter((l) => l === 1).length;
  const target = r.rule.kind === 'youden' ? null : r.rule.target;
  const metadata: ModelMetadata = {
    ...md,
    threshold: point.threshold,
    thresholdChosenBy: `${describeRule(r.rule)} on ${r.dataset} (${r.labels.length} images${calibration ? `, ${calibration.method}-calibrated` : ''}); expected sensitivity ${point.sensitivity.toFixed(3)}, specificity ${point.specificity.toFixed(3)}`,
    operatingPoint: { rule: r.rule.kind, target, dataset: r.dataset, n: r.labels.length, positives, expectedSensitivity: point.sensitivity, expectedSpecificity: point.specificity, calibrated: !!calibration, chosenAt: r.at ?? new Date().toISOString() },
    calibration,
  };
  if (!calibration) delete metadata.calibration;
  return { metadata, point };
}
