// Keras layers that tfjs-layers 4.22 lacks, registered so imported models save and reload.
//  - Normalization: (x − mean) / max(√variance, 1e-7), or the inverse with `invert`.
//  - SpatialDropout2D: drops whole channels while training, identity at inference.
//  - InferenceIdentity: stands in for Keras preprocessing/augmentation layers that do nothing at
//    inference (RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast,
//    RandomBrightness, RandomCrop is NOT one of them); `source_class` keeps the original class name.
// Rescaling is native in tfjs-layers 4.22 and used as is.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type LayerArgs = ConstructorParameters<typeof tfl.layers.Layer>[0] & Record<string, unknown>;
type Shape = Array<number | null>;

function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

/** Identity at inference for Keras augmentation layers (see the file comment). */
export class InferenceIdentity extends tfl.layers.Layer {
  static className = 'InferenceIdentity';
  readonly sourceClass: string;
  constructor(args: LayerArgs) {
    super(args);
    // tfjs deserialisation camel-cases string values ("RandomFlip" → "randomFlip"); Keras classes are PascalCase.
    const src = String(args.sourceClass ?? '');
    this.sourceClass = src.charAt(0).toUpperCase() + src.slice(1);
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.clone(one(inputs));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), sourceClass: this.sourceClass };
  }
}

/** Keras SpatialDropout2D (channels_last): whole feature maps dropped while training. */
export class SpatialDropout2D extends tfl.layers.Layer {
  static className = 'SpatialDropout2D';
  readonly rate: number;
  constructor(args: LayerArgs) {
    super(args);
    this.rate = Number(args.rate ?? 0);
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = one(inputs);
    if (!kwargs?.training || this.rate <= 0) return tf.clone(x);
    const [n, , , c] = x.shape;
    return tf.dropout(x, this.rate, [n, 1, 1, c]);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

/** Keras Normalization (adapted mean/variance as weights, or fixed ones in the config). */
export class Normalization extends tfl.layers.Layer {
  static className = 'Normalization';
  readonly axis: number[];
  readonly fixedMean: number | number[] | null;
  readonly fixedVariance: number | number[] | null;
  readonly invert: boolean;
  private meanW: tfl.LayerVariable | null = null;
  private varW: tfl.LayerVariable | null = null;
  private bshape: number[] = [];
  constructor(args: LayerArgs) {
    super(args);
    const a = args.axis ?? -1;
    this.axis = a == null ? [] : Array.isArray(a) ? (a as number[]) : [Number(a)];
    this.fixedMean = (args.mean as number | number[] | undefined) ?? null;
    this.fixedVariance = (args.variance as number | number[] | undefined) ?? null;
    this.invert = Boolean(args.invert);
  }
  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const rank = shape.length;
    const keep = this.axis.map((d) => (d < 0 ? d + rank : d));
    this.bshape = shape.map((s, i) => (keep.includes(i) ? Number(s) : 1));
    const wshape = keep.map((i) => Number(shape[i]));
    if (this.fixedMean == null) {
      this.meanW = this.addWeight('mean', wshape, 'float32', tfl.initializers.zeros(), undefined, false);
      this.varW = this.addWeight('variance', wshape, 'float32', tfl.initializers.ones(), undefined, false);
    }
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = tf.cast(one(inputs), 'float32');
      const mean = tf.reshape(this.meanW ? this.meanW.read() : tf.tensor(this.fixedMean as number[]), this.fixedMean != null && !Array.isArray(this.fixedMean) ? [] : this.bshape);
      const variance = tf.reshape(this.varW ? this.varW.read() : tf.tensor(this.fixedVariance as number[]), this.fixedVariance != null && !Array.isArray(this.fixedVariance) ? [] : this.bshape);
      const sd = tf.maximum(tf.sqrt(variance), 1e-7);
      return this.invert ? tf.add(tf.mul(x, sd), mean) : tf.div(tf.sub(x, mean), sd);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis, mean: this.fixedMean, variance: this.fixedVariance, invert: this.invert };
  }
}

let registered = false;

/** Registers the custom layers with tfjs serialization (idempotent). Call before building or loading a model. */
export function registerInterchangeLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(InferenceIdentity);
  tf.serialization.registerClass(SpatialDropout2D);
  tf.serialization.registerClass(Normalization);
  registered = true;
}

// Registered on import, so any process that loads the CLI (and so this module) can reload imported models.
registerInterchangeLayers();
