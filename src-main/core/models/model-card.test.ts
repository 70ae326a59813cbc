import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FormSignal, ModelMetadata } from '../../../src-shared/types.ts';
import { renderModelCard } from './model-card.ts';

function metadata(formSignals: FormSignal[]): ModelMetadata {
  return {
    schemaVersion: 1, id: 'm', name: 'm', version: '1', created: new Date(0).toISOString(), architecture: 'seed-cnn',
    input: { height: 64, width: 64, channels: 1, resize: 'stretch', scaling: 'scale255' }, classNames: ['NORMAL', 'PNEUMONIA'],
    positiveClass: 'PNEUMONIA', output: 'sigmoid', threshold: 0.5, thresholdChosenBy: 'fixed', weightsSha256: '0'.repeat(64), parameters: 1,
    training: { command: 'npx cxr train data', dataRoot: 'data', counts: {}, seed: 1, epochs: 1, bestEpoch: 1, backend: 'cpu', durationSeconds: 1, hyperparameters: {}, history: [], formSignals },
  };
}

test('a flagged form signal of the training files is a limitation on the card, in the words of the model\'s own resize', () => {
  const aspect: FormSignal = { trait: 'aspect ratio', auc: 0.88, separation: 0.88, higherIn: 'PNEUMONIA', medians: { NORMAL: 1.21, PNEUMONIA: 1.5 }, flagged: true };
  const width: FormSignal = { trait: 'width', auc: 0.51, separation: 0.51, higherIn: 'PNEUMONIA', medians: { NORMAL: 511, PNEUMONIA: 511 }, flagged: false };
  const card = renderModelCard(metadata([aspect, width]));
  const limitations = card.slice(card.indexOf('## Limitations'));
  assert.match(limitations, /^- In the training images, aspect ratio alone separates NORMAL from PNEUMONIA with AUC 0\.88 \(median 1\.21 vs 1\.50\): resizing does not hide it: the model sees it as a horizontal squeeze \(`stretch`\)/m);
  assert.doesNotMatch(card, /width alone/);
  assert.doesNotMatch(renderModelCard(metadata([])), /In the training images/);
});
