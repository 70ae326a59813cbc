import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareModels, rankDisagreements, type ScoredModel } from './compare.ts';

const model = (name: string, paths: string[], probabilities: number[], failures: ScoredModel['failures'] = []): ScoredModel => ({
  name, id: name, version: '1', dir: `/m/${name}`, threshold: 0.5, positiveClass: 'PNEUMONIA', negativeClass: 'NORMAL',
  paths, labels: paths.map((p) => (p.includes('PNEU') ? 1 : 0)), probabilities, failures,
});

test('disagreements: only cases whose labels differ, ranked by the spread of probabilities', () => {
  const names = ['a', 'b', 'c'];
  const paths = ['x', 'y', 'z', 'w'];
  const probs = [[0.9, 0.6, 0.2, 0.45], [0.1, 0.4, 0.3, 0.55], [0.5, 0.45, 0.1, 0.5]];
  const predicted = probs.map((ps) => ps.map((p) => (p >= 0.5 ? 'P' : 'N')));
  const truth = ['P', 'P', 'N', 'N'];
  const correct = predicted.map((ls) => ls.map((l, i) => l === truth[i]));
  const d = rankDisagreements(names, paths, truth, probs, predicted, correct);
  assert.deepEqual(d.map((x) => x.path), ['x', 'y', 'w']); // z: all NORMAL, left out
  assert.ok(Math.abs(d[0].spread - 0.8) < 1e-12 && Math.abs(d[1].spread - 0.2) < 1e-12 && Math.abs(d[2].spread - 0.1) < 1e-12);
  assert.deepEqual(d[0].byModel.map((b) => [b.name, b.label, b.correct]), [['a', 'P', true], ['b', 'N', false], ['c', 'P', true]]);
});

test('compareModels pairs cases, leaves out files a model failed on, and tests every pair', () => {
  const paths = ['/d/NORMAL/1', '/d/NORMAL/2', '/d/PNEU/3', '/d/PNEU/4', '/d/PNEU/5'];
  const a = model('a', paths, [0.1, 0.2, 0.9, 0.8, 0.7]); // all right
  const b = model('b', paths.slice(0, 4), [0.6, 0.2, 0.3, 0.8], [{ path: paths[4], code: 'decode', reason: 'corrupt JPEG' }]);
  const c = model('c', paths, [0.1, 0.7, 0.9, 0.1, 0.9]);
  const r = compareModels('/d', [a, b, c], 'T');
  assert.equal(r.pairedCases, 4);
  assert.deepEqual(r.excluded, [{ path: paths[4], failedFor: ['b'], reasons: ['corrupt JPEG'] }]);
  assert.deepEqual(r.models.map((m) => m.metrics.n), [4, 4, 4]);
  assert.equal(r.models[0].metrics.accuracy.value, 1);
  assert.deepEqual(r.mcnemar.map((t) => [t.modelA, t.modelB, t.b, t.c, t.method]), [
    ['a', 'b', 2, 0, 'exact-binomial'], ['a', 'c', 2, 0, 'exact-binomial'], ['b', 'c', 2, 2, 'exact-binomial'],
  ]);
  assert.ok(Math.abs(r.mcnemar[0].pValue - 0.5) < 1e-12);
  assert.equal(r.mcnemar[2].pValue, 1);
  assert.deepEqual(r.disagreements.map((d) => d.path), ['/d/PNEU/4', '/d/PNEU/3', '/d/NORMAL/1', '/d/NORMAL/2']);
  assert.equal(r.disagreements[0].truth, 'PNEUMONIA');
  assert.throws(() => compareModels('/d', [a]), /at least two models/);
  assert.throws(() => compareModels('/d', [model('p', ['/d/NORMAL/1'], [0.1]), model('q', [], [], [{ path: '/d/NORMAL/1', code: 'x', reason: 'bad' }])]), /no image was scored by every model/);
});
