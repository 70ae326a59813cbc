import type { Command } from '../command.ts';

/** A sub-command as `cxr --help` lists it; its module is loaded only when it runs (fast start-up). */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

/** Every `cxr` sub-command, in the order `cxr --help` lists them. */
export const commands: CommandEntry[] = [
  { name: 'classify', summary: 'classify a folder or files of chest X-rays (NORMAL / PNEUMONIA)', load: async () => (await import('./classify.ts')).classifyCommand },
  { name: 'history', summary: 'list recorded diagnoses (filters: date, label, model, image, overridden)', load: async () => (await import('./history.ts')).historyCommand },
  { name: 'override', summary: 'record a clinician\'s label for a diagnosis (audited)', load: async () => (await import('./override.ts')).overrideCommand },
  { name: 'export', summary: 'export the diagnosis history as CSV or JSON (optionally de-identified), or a model as ONNX', load: async () => (await import('./export.ts')).exportCommand },
  { name: 'audit', summary: 'verify the history\'s audit chain (tamper check)', load: async () => (await import('./audit.ts')).auditCommand },
  { name: 'backup', summary: 'copy the diagnosis history safely to a file', load: async () => (await import('./backup.ts')).backupCommand },
  { name: 'doctor', summary: 'show the compute backend, versions, models and data folders', load: async () => (await import('./doctor.ts')).doctorCommand },
  { name: 'models', summary: 'list installed models with their metrics', load: async () => (await import('./models.ts')).modelsCommand },
  { name: 'train', summary: 'train a CNN from scratch (or by transfer learning) on a labelled folder or a MedMNIST .npz', load: async () => (await import('./train.ts')).trainCommand },
  { name: 'ensemble', summary: 'combine trained models into one (mean of their logits), scored on a selection set', load: async () => (await import('./ensemble.ts')).ensembleCommand },
  { name: 'quantize', summary: 'store a copy of a model with 8- or 16-bit weights (≈4× or 2× smaller), compared on a selection set', load: async () => (await import('./quantize.ts')).quantizeCommand },
  { name: 'augment-preview', summary: 'write a PNG grid of augmented copies of one image', load: async () => (await import('./augment-preview.ts')).augmentPreviewCommand },
  { name: 'evaluate', summary: 'measure a model on a labelled folder (AUC, accuracy, sensitivity, specificity with 95% CI)', load: async () => (await import('./evaluate.ts')).evaluateCommand },
  { name: 'compare', summary: 'compare models on one labelled folder: metrics side by side, McNemar tests, disagreements', load: async () => (await import('./compare.ts')).compareCommand },
  { name: 'threshold', summary: 'choose the operating point (and optional calibration) on validation data', load: async () => (await import('./threshold.ts')).thresholdCommand },
  { name: 'familiarity', summary: 'give a model a check that refuses images unlike its training images (not chest X-rays)', load: async () => (await import('./familiarity.ts')).familiarityCommand },
  { name: 'lock-test', summary: 'record a locked evaluation folder (its file hashes) for release decisions', load: async () => (await import('./lock-test.ts')).lockTestCommand },
  { name: 'retrain', summary: 'fine-tune a model with new labelled images behind a release gate', load: async () => (await import('./retrain.ts')).retrainCommand },
  { name: 'dataset', summary: 'scan a labelled folder: layout, counts per split and class, duplicates, unreadable files', load: async () => (await import('./dataset.ts')).datasetCommand },
  { name: 'import', summary: 'import a Keras (.h5, .keras) or TensorFlow.js layers model into the model store', load: async () => (await import('./import.ts')).importCommand },
  { name: 'summary', summary: 'describe a model like Keras model.summary(): layers, shapes, parameters, input, files, sha256', load: async () => (await import('./summary.ts')).summaryCommand },
  { name: 'explain', summary: 'see inside the model: layer activations, Grad-CAM, shortcut audit', load: async () => (await import('./explain.ts')).explainCommand },
];
