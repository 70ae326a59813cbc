/**
 * Compares several models on the same labelled cases: metrics side by side, McNemar's test for every
 * pair, and the cases where their labels differ. Only cases every model scored take part (paired).
 */
import type { EvaluationSummary, FileFailure } from '../../../src-shared/types.ts';
import { rocCurve, type RocPoint } from '../evaluation/curves.ts';
import { summarise } from '../evaluation/metrics.ts';
import { discordant, mcnemar, type McNemarResult } from './mcnemar.ts';

/** One model's scores on the folder, as scoreItems returns them, plus what names it. */
export interface ScoredModel {
  /** Unique display name (the model id, disambiguated when two share one). */
  name: string;
  id: string;
  version: string;
  dir: string;
  threshold: number;
  positiveClass: string;
  negativeClass: string;
  paths: string[];
  labels: number[];
  probabilities: number[];
  failures: FileFailure[];
  /** How many of the folder's images this model was fitted on (its figures are optimistic when > 0). */
  trainedOn?: number;
}

/** One model's row of the side-by-side table, on the paired cases. */
export interface ModelRow {
  name: string;
  id: string;
  version: string;
  dir: string;
  threshold: number;
  metrics: EvaluationSummary;
  roc: RocPoint[];
  /** Files this model could not score (they are left out of every paired figure). */
  failures: FileFailure[];
  /** Images of the folder this model was fitted on (by content); 0 when none or unknown. */
  trainedOn: number;
}

/** McNemar's test between modelA and modelB: b counts cases only modelA gets right, c those only modelB gets right. */
export interface PairTest extends McNemarResult {
  modelA: string;
  modelB: string;
  bothRight: number;
  bothWrong: number;
}

/** A case on which the models' labels differ. */
export interface Disagreement {
  path: string;
  truth: string;
  /** max − min of P(positive) across the models: the ranking key. */
  spread: number;
  byModel: Array<{ name: string; probability: number; label: string; correct: boolean }>;
}

/** Everything `compare.json` holds. */
export interface Comparison {
  schemaVersion: 1;
  created: string;
  folder: string;
  /** Cases every model scored: all paired figures use exactly these. */
  pairedCases: number;
  /** Files left out because at least one model could not score them. */
  excluded: Array<{ path: string; failedFor: string[]; reasons: string[] }>;
  models: ModelRow[];
  mcnemar: PairTest[];
  mcnemarMethod: string;
  disagreements: Disagreement[];
}

/**
 * Ranks the cases on which the models' labels differ, by the spread of their probabilities (largest
 * first; ties by path). `probs[m][i]` and `labels[m][i]` are model m's output on case i.
 */
export function rankDisagreements(
  names: string[], paths: string[], truth: string[], probs: number[][], predicted: string[][], correct: boolean[][],
): Disagreement[] {
  const out: Disagreement[] = [];
  for (let i = 0; i < paths.length; i++) {
    const labels = new Set(names.map((_, m) => predicted[m][i]));
    if (labels.size < 2) continue;
    const ps = names.map((_, m) => probs[m][i]);
    out.push({
      path: paths[i], truth: truth[i], spread: Math.max(...ps) - Math.min(...ps),
      byModel: names.map((name, m) => ({ name, probability: probs[m][i], label: predicted[m][i], correct: correct[m][i] })),
    });
  }
  return out.sort((x, y) => y.spread - x.spread || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** Builds the comparison from each model's scores on the same folder (at least two models). */
export function compareModels(folder: string, scored: ScoredModel[], created = new Date().toISOString()): Comparison {
  if (scored.length < 2) throw new Error('compare: name at least two models');
  const index = scored.map((s) => new Map(s.paths.map((p, i) => [p, i])));
  const all = new Set<string>();
  for (const s of scored) for (const p of [...s.paths, ...s.failures.map((f) => f.path)]) all.add(p);
  const paired = [...all].filter((p) => index.every((ix) => ix.has(p))).sort();
  const excluded = [...all].filter((p) => !index.every((ix) => ix.has(p))).sort().map((p) => {
    const failed = scored.filter((_, m) => !index[m].has(p));
    return { path: p, failedFor: failed.map((s) => s.name), reasons: failed.map((s) => s.failures.find((f) => f.path === p)?.reason ?? 'not scored') };
  });
  if (!paired.length) throw new Error(`${folder}: no image was scored by every model, so nothing can be compared; check the files listed as failed`);
  const labels = paired.map((p) => scored[0].labels[index[0].get(p)!]);
  const probs = scored.map((s, m) => paired.map((p) => s.probabilities[index[m].get(p)!]));
  const predicted = scored.map((s, m) => probs[m].map((x) => (x >= s.threshold ? s.positiveClass : s.negativeClass)));
  const correct = scored.map((s, m) => probs[m].map((x, i) => (x >= s.threshold ? 1 : 0) === labels[i]));
  const truth = labels.map((l) => (l === 1 ? scored[0].positiveClass : scored[0].negativeClass));
  const models: ModelRow[] = scored.map((s, m) => ({
    name: s.name, id: s.id, version: s.version, dir: s.dir, threshold: s.threshold,
    metrics: summarise(folder, labels, probs[m], s.threshold), roc: rocCurve(labels, probs[m]), failures: s.failures, trainedOn: s.trainedOn ?? 0,
  }));
  const tests: PairTest[] = [];
  for (let i = 0; i < scored.length; i++) {
    for (let j = i + 1; j < scored.length; j++) {
      const d = discordant(correct[i], correct[j]);
      tests.push({ modelA: scored[i].name, modelB: scored[j].name, ...mcnemar(d.b, d.c), bothRight: d.bothRight, bothWrong: d.bothWrong });
    }
  }
  return {
    schemaVersion: 1, created, folder, pairedCases: paired.length, excluded, models, mcnemar: tests,
    mcnemarMethod: 'McNemar on discordant pairs (b = only the first model right, c = only the second right): exact two-sided binomial p-value when b + c < 25, else chi-square with continuity correction (|b − c| − 1)² / (b + c), 1 df',
    disagreements: rankDisagreements(scored.map((s) => s.name), paired, truth, probs, predicted, correct),
  };
}

/** JSON text of a comparison; NaN and ±Infinity (undefined metrics, the ROC start threshold) become null. */
export function comparisonJson(c: Comparison): string {
  return JSON.stringify(c, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}
