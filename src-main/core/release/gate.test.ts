import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gateDecision } from './gate.ts';

const old = { auc: 0.9, sensitivity: 0.95, specificity: 0.7 };

test('the gate promotes a better model and one that is worse only within the margin', () => {
  assert.equal(gateDecision(old, { auc: 0.93, sensitivity: 0.96, specificity: 0.7 }, 0.01).promote, true);
  const within = gateDecision(old, { auc: 0.89, sensitivity: 0.94, specificity: 0.6 }, 0.01);
  assert.equal(within.promote, true, within.reason);
  assert.match(within.reason, /^promoted: .*AUC 0\.900 → 0\.890/);
});

test('the gate refuses a model whose AUC or sensitivity dropped beyond the margin, naming why', () => {
  const auc = gateDecision(old, { auc: 0.88, sensitivity: 0.99, specificity: 0.9 }, 0.01);
  assert.equal(auc.promote, false);
  assert.match(auc.reason, /kept as candidate: AUC dropped by 0\.020, more than the margin 0\.01/);
  const sens = gateDecision(old, { auc: 0.95, sensitivity: 0.93, specificity: 0.9 }, 0.01);
  assert.equal(sens.promote, false);
  assert.match(sens.reason, /sensitivity dropped by 0\.020/);
  const both = gateDecision(old, { auc: 0.5, sensitivity: 0.5, specificity: 1 }, 0);
  assert.match(both.reason, /AUC dropped .* and sensitivity dropped/);
  assert.equal(gateDecision(old, { ...old, auc: 0.9 - 1e-9 }, 0).promote, false, 'margin 0 means no drop at all');
  assert.equal(gateDecision(old, { ...old }, 0).promote, true, 'equal is not worse');
});

test('undefined scores never promote; a bad margin throws', () => {
  assert.equal(gateDecision({ ...old, auc: NaN }, old, 0.01).promote, false);
  assert.match(gateDecision(old, { ...old, sensitivity: NaN }, 0.01).reason, /locked set needs both classes/);
  assert.throws(() => gateDecision(old, old, -0.1), /margin must be in \[0, 1\)/);
});
