/** The release gate: may a retrained model replace the active one? */

/** A model's scores on the locked test set. */
export interface GateScores {
  auc: number;
  /** Sensitivity at the model's own operating point (threshold). */
  sensitivity: number;
  specificity: number;
}

/** The gate's verdict, with the reason recorded in the history. */
export interface GateDecision {
  promote: boolean;
  reason: string;
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

/**
 * Promotes the new model only if, on the locked set, its AUC and its sensitivity at its operating
 * point are each not worse than the old model's by more than `margin` (absolute). Undefined scores
 * (e.g. a locked set without both classes) never promote.
 */
export function gateDecision(oldS: GateScores, newS: GateScores, margin: number): GateDecision {
  if (!(margin >= 0 && margin < 1)) throw new Error(`the margin must be in [0, 1) (got ${margin})`);
  const summary = `AUC ${f(oldS.auc)} → ${f(newS.auc)}, sensitivity ${f(oldS.sensitivity)} → ${f(newS.sensitivity)} (specificity ${f(oldS.specificity)} → ${f(newS.specificity)}), margin ${margin}`;
  const values = [oldS.auc, newS.auc, oldS.sensitivity, newS.sensitivity];
  if (!values.every(Number.isFinite)) return { promote: false, reason: `kept as candidate: scores on the locked set are undefined (${summary}); the locked set needs both classes` };
  const eps = 1e-12;
  const failures: string[] = [];
  if (newS.auc < oldS.auc - margin - eps) failures.push(`AUC dropped by ${(oldS.auc - newS.auc).toFixed(3)}`);
  if (newS.sensitivity < oldS.sensitivity - margin - eps) failures.push(`sensitivity dropped by ${(oldS.sensitivity - newS.sensitivity).toFixed(3)}`);
  if (failures.length) return { promote: false, reason: `kept as candidate: ${failures.join(' and ')}, more than the margin ${margin} (${summary})` };
  return { promote: true, reason: `promoted: not worse than the active model beyond the margin on the locked set (${summary})` };
}
