// Backbones for transfer learning: nsfwjs's MobileNetV2 and InceptionV3, VGG19 (Keras ImageNet weights from the user),
// or any stored/imported model cut at a named layer, with a new head: GAP → Dropout → Dense(sigmoid).
import * as tfl from '@tensorflow/tfjs-layers';
import type { InputSpec, ResizeMode } from '../../../src-shared/types.ts';
import { loadStoredModel, resolveModel, type StoredModel } from '../models/store.ts';
import { cutModel } from './cut-model.ts';
import { keepBatchNormInInference } from '../training/batch-norm-mode.ts';
import { loadNsfwModel, NSFW_BACKBONES } from './nsfwjs-models.ts';
import { buildVgg19, loadVgg19Weights, VGG19_CUT } from './vgg19.ts';

/** The pretrained bases `--base` names besides a stored model (for usage lines and messages). */
export const BASE_CHOICES = 'mobilenetv2|inceptionv3|vgg19|MODEL';
/** What to do when `--base vgg19` comes without its weight file. */
export const VGG19_NEEDS_WEIGHTS = '--base vgg19 needs --base-weights FILE: the Keras ImageNet file vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (it is never downloaded)';

/** What backbone to use, as `cxr train --base …` gives it. */
export interface BackboneRequest {
  /** `mobilenetv2`, `inceptionv3`, `vgg19`, or the id/folder of a stored model. */
  base: string;
  cutAt?: string;
  /** VGG19: the Keras weight file. */
  baseWeights?: string;
  /** Square input size (default: the backbone's own, 224 or 299, or the stored model's size). */
  inputSize?: number;
  resize: ResizeMode;
  seed: number;
  dropout?: number;
  modelsDir?: string;
}

/** A backbone with its new head, ready for two-phase training. */
export interface TransferModel {
  model: tfl.LayersModel;
  input: InputSpec;
  /** Names of the backbone's layers in the full model (everything before the head). */
  baseLayerNames: string[];
  /** Where the backbone came from, for metadata. */
  source: string;
  cutAt: string;
  /** The stored model the backbone was cut from (absent for the built-in backbones). */
  stored?: StoredModel;
}

async function loadBase(req: BackboneRequest, log: (l: string) => void): Promise<{ base: tfl.LayersModel; channels: 1 | 3; scaling: InputSpec['scaling']; size: number; source: string; cutAt: string; stored?: StoredModel }> {
  if (Object.hasOwn(NSFW_BACKBONES, req.base)) {
    const b = NSFW_BACKBONES[req.base as keyof typeof NSFW_BACKBONES];
    const size = req.inputSize ?? b.size;
    const full = await loadNsfwModel(b);
    const cutAt = req.cutAt ?? b.cutAt;
    try {
      const base = await cutModel(full, cutAt, size, `${b.label} (nsfwjs)`);
      return { base, channels: 3, scaling: 'scale255', size, source: b.source, cutAt };
    } finally {
      full.dispose();
    }
  }
  if (req.base === 'vgg19') {
    if (!req.baseWeights) throw new Error(VGG19_NEEDS_WEIGHTS);
    const size = req.inputSize ?? 224;
    const full = buildVgg19(size);
    await loadVgg19Weights(full, req.baseWeights);
    log(`VGG19 weights loaded from ${req.baseWeights}`);
    const cutAt = req.cutAt ?? VGG19_CUT;
    if (cutAt === VGG19_CUT) return { base: full, channels: 3, scaling: 'imagenet', size, source: `VGG19 (Keras ImageNet weights from ${req.baseWeights})`, cutAt };
    try {
      return { base: await cutModel(full, cutAt, size, 'VGG19'), channels: 3, scaling: 'imagenet', size, source: `VGG19 (Keras ImageNet weights from ${req.baseWeights})`, cutAt };
    } finally {
      full.dispose();
    }
  }
  if (!req.cutAt) throw new Error(`--base ${req.base}: a stored model as backbone needs --cut-at LAYER (run \`cxr summary ${req.base}\` to list its layers)`);
  const stored = await resolveModel(req.base, { modelsDir: req.modelsDir });
  const full = await loadStoredModel(stored);
  const size = req.inputSize ?? stored.metadata.input.height;
  try {
    const base = await cutModel(full, req.cutAt, size, `model "${stored.metadata.id}" (${stored.dir})`);
    return { base, channels: stored.metadata.input.channels, scaling: stored.metadata.input.scaling, size, source: `stored model ${stored.metadata.id} v${stored.metadata.version}`, cutAt: req.cutAt, stored };
  } finally {
    full.dispose();
  }
}

/** Loads the backbone, cuts it, and adds the new head (GAP → Dropout → Dense sigmoid); BN layers of the base stay in inference mode. */
export async function buildTransferModel(req: BackboneRequest, log: (l: string) => void = () => {}): Promise<TransferModel> {
  const { base, channels, scaling, size, source, cutAt, stored } = await loadBase(req, log);
  if (base.outputs[0].shape.length !== 4) throw new Error(`layer "${cutAt}" does not output feature maps (shape [${base.outputs[0].shape}]); cut at a convolutional layer`);
  const baseLayerNames = base.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => l.name);
  let x = tfl.layers.globalAveragePooling2d({ name: 'head_gap' }).apply(base.outputs[0]) as tfl.SymbolicTensor;
  x = tfl.layers.dropout({ rate: req.dropout ?? 0.2, name: 'head_dropout', seed: req.seed }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 1, activation: 'sigmoid', name: 'head_output', kernelInitializer: tfl.initializers.glorotUniform({ seed: req.seed }) }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: base.inputs, outputs: out, name: `transfer_${req.base.replace(/\W/g, '_')}` });
  keepBatchNormInInference(model, baseLayerNames);
  return { model, input: { height: size, width: size, channels, resize: req.resize, scaling }, baseLayerNames, source, cutAt, stored };
}
