// Freezing the backbone: trainable flags, parameter counts (BatchNorm in inference mode: training/batch-norm-mode.ts).
import type * as tfl from '@tensorflow/tfjs-layers';

/** Trainable and frozen (non-trainable, incl. BN moving statistics) parameter counts. */
export interface ParamCounts {
  trainable: number;
  frozen: number;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Counts `model`'s trainable and non-trainable parameters. */
export function paramCounts(model: tfl.LayersModel): ParamCounts {
  return {
    trainable: model.trainableWeights.reduce((s, w) => s + size(w.shape as number[]), 0),
    frozen: model.nonTrainableWeights.reduce((s, w) => s + size(w.shape as number[]), 0),
  };
}

/** Sets `trainable` on the named layers (the others keep theirs). */
export function setTrainable(model: tfl.LayersModel, names: Iterable<string>, trainable: boolean): void {
  for (const name of names) model.getLayer(name).trainable = trainable;
}

/** The base layers from `from` (inclusive) to the end of the base; throws naming the layer when absent. */
export function layersFrom(baseNames: string[], from: string, label: string): string[] {
  const i = baseNames.indexOf(from);
  if (i < 0) {
    throw new Error(`${label}: no layer "${from}" in the base to unfreeze from (its last layers: ${baseNames.slice(-5).join(', ')}); run \`cxr summary\` for the names`);
  }
  return baseNames.slice(i);
}

/** Block of a base layer: "block5" for VGG's block5_conv1, "block_16" for MobileNetV2's block_16_expand, else the name before the first "_". */
export function blockOf(name: string): string {
  return /^(block_?\d+)_/.exec(name)?.[1] ?? name.split('_')[0];
}

/**
 * The first layer of the last `n` blocks of the base (layers with weights only define blocks). In an Inception
 * base, a block is everything after one `mixedN` concatenation up to and including the next.
 */
export function firstLayerOfLastBlocks(model: tfl.LayersModel, baseNames: string[], n: number): string {
  const mixedEnds = baseNames.flatMap((name, i) => (/^mixed\d+$/.test(name) ? [i] : []));
  if (mixedEnds.length) {
    const starts = [0, ...mixedEnds.slice(0, -1).map((i) => i + 1)];
    if (n < 1 || n > starts.length) throw new Error(`the base has ${starts.length} Inception blocks; choose --unfreeze-last-blocks between 1 and ${starts.length}`);
    return baseNames[starts[starts.length - n]];
  }
  const blocks: Array<{ block: string; first: string }> = [];
  for (const name of baseNames) {
    if (!model.getLayer(name).weights.length) continue;
    const block = blockOf(name);
    if (blocks[blocks.length - 1]?.block !== block) blocks.push({ block, first: name });
  }
  if (n < 1 || n > blocks.length) throw new Error(`the base has ${blocks.length} blocks; choose --unfreeze-last-blocks between 1 and ${blocks.length}`);
  return blocks[blocks.length - n].first;
}
