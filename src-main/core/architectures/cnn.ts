import * as tfl from '@tensorflow/tfjs-layers';

/** Options shared by our from-scratch CNN builders. */
export interface CnnOptions {
  inputSize: number;
  channels: 1 | 3;
  filters: number[];
  dropout: number;
  denseUnits: number;
  l2: number;
  seed: number;
  /** Depthwise channel multiplier of the separable convolutions (sep-cnn only), 1–4. */
  depthMultiplier?: number;
}

/** Names of the architectures we can build. */
export const ARCHITECTURES = ['seed-cnn', 'gap-cnn', 'bn-cnn', 'sep-cnn'] as const;
export type ArchitectureName = (typeof ARCHITECTURES)[number];

const DEFAULTS: Record<ArchitectureName, CnnOptions> = {
  'seed-cnn': { inputSize: 128, channels: 1, filters: [32, 64, 128, 128], dropout: 0.5, denseUnits: 512, l2: 0, seed: 1 },
  'gap-cnn': { inputSize: 128, channels: 1, filters: [32, 64, 128, 256], dropout: 0.3, denseUnits: 64, l2: 0, seed: 1 },
  'bn-cnn': { inputSize: 128, channels: 1, filters: [32, 64, 128, 128, 256], dropout: 0.4, denseUnits: 64, l2: 1e-4, seed: 1 },
  'sep-cnn': { inputSize: 128, channels: 1, filters: [16, 32, 64, 128, 128], dropout: 0.3, denseUnits: 64, l2: 0, seed: 1, depthMultiplier: 1 },
};

/** Architectures whose 3×3 convolutions are unpadded ('valid'). */
const VALID_CONV: ReadonlySet<ArchitectureName> = new Set(['seed-cnn', 'gap-cnn']);

/** Side of the last feature map after `blocks` × (unpadded 3×3 convolution, 2×2 pooling). */
function finalSize(input: number, blocks: number): number {
  let s = input;
  for (let i = 0; i < blocks; i++) s = Math.floor((s - 2) / 2);
  return s;
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`architecture options: ${msg}`);
}

function validate(name: ArchitectureName, o: CnnOptions): void {
  check(Number.isInteger(o.inputSize) && o.inputSize >= 28 && o.inputSize <= 256, `inputSize must be an integer in 28–256 (got ${o.inputSize})`);
  check(o.channels === 1 || o.channels === 3, `channels must be 1 or 3 (got ${o.channels})`);
  check(o.filters.length >= 1 && o.filters.every((f) => Number.isInteger(f) && f >= 1 && f <= 1024), 'filters must be 1–1024 each');
  check(o.inputSize / 2 ** o.filters.length >= 2, `${o.filters.length} pooling blocks shrink ${o.inputSize}px below 2px; use fewer blocks or a larger input`);
  if (VALID_CONV.has(name)) {
    // Unpadded 3×3 convolutions lose 2 px before each pooling: 32 px through seed-cnn's 4 blocks would reach 0 px.
    const smallest = Array.from({ length: 256 }, (_, s) => s + 1).find((s) => finalSize(s, o.filters.length) >= 1);
    check(finalSize(o.inputSize, o.filters.length) >= 1, `${name}'s ${o.filters.length} blocks of unpadded 3×3 convolution and pooling shrink ${o.inputSize}px to nothing; use an input of at least ${smallest}px or fewer blocks`);
  }
  check(o.dropout >= 0 && o.dropout < 1, `dropout must be in [0, 1) (got ${o.dropout})`);
  check(Number.isInteger(o.denseUnits) && o.denseUnits >= 1, `denseUnits must be a positive integer (got ${o.denseUnits})`);
  check(o.l2 >= 0, `l2 must be ≥ 0 (got ${o.l2})`);
  check(ARCHITECTURES.includes(name), `unknown architecture ${name}`);
  if (o.depthMultiplier !== undefined) {
    check(name === 'sep-cnn', `depthMultiplier applies to sep-cnn only (got it for ${name})`);
    check(Number.isInteger(o.depthMultiplier) && o.depthMultiplier >= 1 && o.depthMultiplier <= 4, `depthMultiplier must be an integer in 1–4 (got ${o.depthMultiplier})`);
  }
  if (name === 'sep-cnn') check(o.filters.length >= 2, 'sep-cnn needs at least 2 blocks (a plain stem convolution, then separable ones)');
}

/** Returns the defaults of an architecture merged with the given overrides. */
export function architectureOptions(name: ArchitectureName, overrides: Partial<CnnOptions> = {}): CnnOptions {
  check(ARCHITECTURES.includes(name), `unknown architecture ${name} (use ${ARCHITECTURES.join(', ')})`);
  const o = { ...DEFAULTS[name], ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  validate(name, o);
  return o;
}

/**
 * Builds a named CNN with a sigmoid head giving P(positive class).
 * `seed-cnn`: the seed study's plain Conv(3×3, ReLU)+MaxPool blocks, Flatten, Dense, Dropout.
 * `gap-cnn`: the same blocks, then global average pooling, Dropout and a small Dense (fewer parameters).
 * `bn-cnn`: Conv+BatchNorm+ReLU blocks, global average pooling, Dropout, small Dense.
 * `sep-cnn`: a Conv+BatchNorm+ReLU stem, then SeparableConv2D (depthwise 3×3 + pointwise 1×1)+BatchNorm+ReLU
 * blocks (far fewer weights and FLOPs per block), global average pooling, Dropout, small Dense.
 */
export function buildArchitecture(name: ArchitectureName, overrides: Partial<CnnOptions> = {}): tfl.Sequential {
  const o = architectureOptions(name, overrides);
  let seed = o.seed;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  const reg = o.l2 > 0 ? tfl.regularizers.l2({ l2: o.l2 }) : undefined;
  const m = tfl.sequential({ name });
  o.filters.forEach((f, i) => {
    const first = i === 0 ? { inputShape: [o.inputSize, o.inputSize, o.channels] } : {};
    if (name === 'sep-cnn' && i > 0) {
      m.add(tfl.layers.separableConv2d({ filters: f, kernelSize: 3, padding: 'same', useBias: false, depthMultiplier: o.depthMultiplier ?? 1, depthwiseInitializer: init(), pointwiseInitializer: init(), depthwiseRegularizer: reg, pointwiseRegularizer: reg, name: `sepconv${i + 1}` }));
      m.add(tfl.layers.batchNormalization({ name: `bn${i + 1}` }));
      m.add(tfl.layers.reLU({ name: `relu${i + 1}` }));
    } else if (name !== 'bn-cnn' && name !== 'sep-cnn') {
      m.add(tfl.layers.conv2d({ ...first, filters: f, kernelSize: 3, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg, name: `conv${i + 1}` }));
    } else {
      m.add(tfl.layers.conv2d({ ...first, filters: f, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(), kernelRegularizer: reg, name: `conv${i + 1}` }));
      m.add(tfl.layers.batchNormalization({ name: `bn${i + 1}` }));
      m.add(tfl.layers.reLU({ name: `relu${i + 1}` }));
    }
    m.add(tfl.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 1}` }));
  });
  if (name === 'seed-cnn') {
    m.add(tfl.layers.flatten({ name: 'flatten' }));
    m.add(tfl.layers.dense({ units: o.denseUnits, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg, name: 'dense' }));
    m.add(tfl.layers.dropout({ rate: o.dropout, seed: seed++, name: 'dropout' }));
  } else if (name === 'gap-cnn') {
    m.add(tfl.layers.globalAveragePooling2d({ name: 'gap' }));
    m.add(tfl.layers.dense({ units: o.denseUnits, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg, name: 'dense' }));
    m.add(tfl.layers.dropout({ rate: o.dropout, seed: seed++, name: 'dropout' }));
  } else {
    // bn-cnn and sep-cnn
    m.add(tfl.layers.globalAveragePooling2d({ name: 'gap' }));
    m.add(tfl.layers.dropout({ rate: o.dropout, seed: seed++, name: 'dropout' }));
    m.add(tfl.layers.dense({ units: o.denseUnits, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg, name: 'dense' }));
  }
  m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(), name: 'output' }));
  return m;
}
