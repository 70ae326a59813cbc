/**
 * Types shared by the main process (core, CLI, Electron shell) and the renderer.
 * Plain data only: no Node, no TensorFlow.js.
 */

/** The TensorFlow.js backends we can run on, fastest first. */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** One backend tried while choosing, and why it was or was not taken. */
export interface BackendCandidate {
  name: BackendName;
  available: boolean;
  detail: string;
}

/** What the compute engine chose, reported by `cxr doctor` and on every result. */
export interface EngineInfo {
  backend: BackendName;
  /** Why this backend: 'auto', 'flag --backend', 'env CXR_BACKEND'. */
  chosenBy: string;
  tfjsVersion: string;
  threads: number;
  simd: boolean;
  candidates: BackendCandidate[];
}

/** How pixels are scaled before the model sees them. */
export type Scaling = 'scale255' | 'raw' | 'samplewise' | 'imagenet';

/** How an image is brought to the model's input size. */
export type ResizeMode = 'stretch' | 'letterbox' | 'crop';

/** What the model wants as input. */
export interface InputSpec {
  height: number;
  width: number;
  channels: 1 | 3;
  resize: ResizeMode;
  scaling: Scaling;
  /**
   * Bring a large image to the form of the training images first: when its long side exceeds `maxSide`,
   * shrink it to `maxSide` (Lanczos-3) and round-trip it through JPEG at `jpegQuality`, then resize as
   * usual. For models fitted on re-encoded copies (../shared/data/train: long side ≤ 512, JPEG q90) that
   * classify full-resolution originals. Absent: images go straight to the model's size.
   */
  sourceForm?: SourceForm;
  /**
   * Tone normalisation of the resized 8-bit pixels, before scaling (core/imaging/tone.ts): `equalize` (histogram
   * equalization: exposure and global contrast gone) or `median` (gamma to a median of 128: exposure gone).
   * Absent: pixels as decoded.
   */
  tone?: Tone;
  /**
   * Set instead of `tone` on an ensemble whose members normalise tone differently (`cxr ensemble`): every
   * channel holds the grey image (ITU-R 601 luma), channel c normalised by `toneByChannel[c]`; its length is
   * `channels`. Each member reads the channel of its own tone.
   */
  toneByChannel?: ChannelTone[];
}

/** How a model's input is tone-normalised (see InputSpec.tone). */
export type Tone = 'equalize' | 'median';

/** The tone of one input channel (see InputSpec.toneByChannel); `none`: grey levels as decoded. */
export type ChannelTone = Tone | 'none';

/** The form a model's training images had (see InputSpec.sourceForm). */
export interface SourceForm {
  maxSide: number;
  jpegQuality: number;
}

/** Metrics with a 95% confidence interval. */
export interface MetricWithCI {
  value: number;
  ci95: [number, number];
}

/** Metrics of a model on one labelled folder. */
export interface EvaluationSummary {
  dataset: string;
  n: number;
  positives: number;
  threshold: number;
  auc: MetricWithCI;
  accuracy: MetricWithCI;
  sensitivity: MetricWithCI;
  specificity: MetricWithCI;
}

/** `metadata.json` beside a model's `model.json`. */
export interface ModelMetadata {
  schemaVersion: 1;
  id: string;
  name: string;
  version: string;
  created: string;
  architecture: string;
  input: InputSpec;
  /** Class names in output order; the positive class is the last. */
  classNames: string[];
  positiveClass: string;
  output: 'sigmoid' | 'softmax';
  threshold: number;
  thresholdChosenBy: string;
  weightsSha256: string;
  parameters: number;
  training?: TrainingSummary;
  metrics?: Record<string, EvaluationSummary>;
  /** Mapping of the raw model output to a calibrated probability (applied by the predictor). */
  calibration?: CalibrationParams;
  /** How the threshold was chosen (`cxr threshold`), with the validation data and expected rates. */
  operatingPoint?: OperatingPointRecord;
  /** Set when the model is an ensemble built by `cxr ensemble`: its members and how they are combined. */
  ensemble?: EnsembleRecord;
  /** How the weights are stored (absent: float32): kernels as 8- or 16-bit integers, see `cxr quantize`. */
  weightStorage?: WeightStorageRecord;
  /** The familiarity check (`cxr familiarity`): images unlike the model's training images are refused, not scored. */
  familiarity?: FamiliarityRecord;
  notes?: string;
}

/** A vector stored as 8-bit steps: value i = min + step · bytes[i] (bytes base64-encoded). */
export interface PackedVector {
  length: number;
  min: number;
  step: number;
  base64: string;
}

/**
 * How unlike its training images an image may be before the model refuses to score it: the cosine distance
 * between the image's feature (the output of `layer`, one vector per image) and the mean feature of the
 * images the model was fitted on must not exceed `limit`.
 */
export interface FamiliarityRecord {
  layer: string;
  center: PackedVector;
  limit: number;
  /** The fit images the centre is the mean of. */
  fittedOn: { dataset: string; n: number };
  /** Where the limit came from: `margin` × the largest distance among `n` images not fitted on. */
  limitFrom: { dataset: string; n: number; largest: number; margin: number };
  chosenAt: string;
  /** The `cxr familiarity` command that fitted it, when it was fitted by one. */
  command?: string;
}

/** Storage of a model's kernels; filled in by the model store when it saves the model. */
export interface WeightStorageRecord {
  /** `mixed`: 8-bit kernels, and 16-bit ones where 8 bits would lose too much (see quantize-weights.ts). */
  dtype: 'float32' | 'uint8' | 'uint16' | 'mixed';
  /** With `mixed`: how many kernels are 16-bit. */
  uint16Tensors?: number;
  /** Kernels stored as integers, the size of weights.bin in bytes, and the largest change of any weight. */
  quantizedTensors?: number;
  weightBytes?: number;
  maxAbsError?: number;
}

/** The members of an ensemble model, as they were when it was built. */
export interface EnsembleRecord {
  combination: string;
  command: string;
  members: Array<{ id: string; name: string; version: string; architecture: string; weightsSha256: string; input: InputSpec; calibrated: boolean }>;
}

/** Platt scaling p' = σ(a·logit p + b), or temperature scaling p' = σ(logit p / T). */
export interface CalibrationParams {
  method: 'platt' | 'temperature';
  a?: number;
  b?: number;
  temperature?: number;
  /** Folder the parameters were fitted on, and how many images. */
  fittedOn: string;
  n: number;
}

/** The chosen operating point of a model. */
export interface OperatingPointRecord {
  rule: 'target-sensitivity' | 'target-specificity' | 'youden';
  target: number | null;
  dataset: string;
  n: number;
  positives: number;
  expectedSensitivity: number;
  expectedSpecificity: number;
  calibrated: boolean;
  chosenAt: string;
}

/** What a model was trained on, and how. */
export interface TrainingSummary {
  command: string;
  dataRoot: string;
  counts: Record<string, Record<string, number>>;
  seed: number;
  epochs: number;
  bestEpoch: number;
  backend: BackendName;
  durationSeconds: number;
  hyperparameters: Record<string, unknown>;
  history: Array<Record<string, number>>;
  /** Per data part: image count and sha256 of the sorted content hashes (the full list is in training-data.csv). */
  data?: Record<string, { files: number; sha256: string }>;
  /** How well the form of the fitted files (size, resolution, aspect, channels) alone predicts their label. */
  formSignals?: FormSignal[];
}

/** A property of an image file that is not its content. */
export type FormTrait = 'file size' | 'width' | 'height' | 'aspect ratio' | 'colour channels' | 'mean grey level' | 'grey-level spread';

/** How well one trait alone separates two classes. */
export interface FormSignal {
  trait: FormTrait;
  /** AUC of the trait as a score for the positive class (0.5 = no signal). */
  auc: number;
  /** max(auc, 1 − auc). */
  separation: number;
  /** The class whose files have the larger values, or null at AUC 0.5. */
  higherIn: string | null;
  /** Median of the trait per class (negative class first). */
  medians: Record<string, number>;
  flagged: boolean;
}

/** A model's AUC with one file property held fixed: only pairs whose property falls in the same quantile bin count. */
export interface HeldFixedAuc {
  trait: FormTrait;
  /** Bins actually used (fewer than asked when the property has few distinct values). */
  bins: number;
  /** null when fewer than HELD_FIXED_MIN_PAIRS pairs could be compared. */
  auc: number | null;
  /** Positive–negative pairs compared, and their share of all such pairs in the folder. */
  pairs: number;
  pairShare: number;
}

/** The form signals of one split of a dataset. */
export interface FormSignalReport {
  split: string;
  counts: Record<string, number>;
  signals: FormSignal[];
}

/** One image's result in a batch classification. */
export interface ClassifyRecord {
  path: string;
  sha256: string;
  probability: number;
  label: string;
  threshold: number;
  modelId: string;
  modelVersion: string;
  backend: BackendName;
  engine: string;
  milliseconds: number;
  /** Where the result comes from: this run, or (for an image this model version already classified) the history. */
  source?: string;
  /** Set when the model's familiarity check would have refused the image and it was scored anyway (--allow-unfamiliar): why. */
  unfamiliar?: string;
}

/** One file that could not be used, and why. */
export interface FileFailure {
  path: string;
  code: string;
  reason: string;
}
