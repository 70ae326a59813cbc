/**
 * Plain data returned by the "seeing inside the model" views (activations, Grad-CAM, shortcut
 * audit), so the renderer can draw them without TensorFlow.js. Typed arrays survive IPC
 * (structured clone) unchanged.
 */
import type { FileFailure, ResizeMode } from './types.ts';

/** One layer's spatial output for one image: every channel as an 8-bit map. */
export interface ActivationMap {
  /** Layer name; layers inside a nested model are named "outer/inner". */
  layer: string;
  /** Keras class name, e.g. "Conv2D", "MaxPooling2D". */
  className: string;
  /** [height, width, channels] of the layer output (batch dimension dropped). */
  shape: [number, number, number];
  /**
   * Channel-major maps: value (y, x) of channel ch is at `maps[ch*h*w + y*w + x]`. Each channel is
   * scaled on its own: its min → 0, its max → 255 (a constant channel is all 0).
   */
  maps: Uint8Array;
  /** Per-channel minimum and maximum of the float values before scaling. */
  min: number[];
  max: number[];
}

/** Everything `layerActivations` computed for one image. */
export interface ActivationsResult {
  modelId: string;
  /** The model's input [height, width, channels]. */
  input: [number, number, number];
  /** P(positive class) from the same forward pass. */
  probability: number;
  label: string;
  layers: ActivationMap[];
  milliseconds: number;
}

/** Which class-activation method. */
export type CamMethod = 'gradcam' | 'gradcam++';

/** How a colour map turns values in [0, 1] into colours (perceptual maps only, no rainbow). */
export type ColormapName = 'viridis' | 'inferno';

/** A Grad-CAM heatmap for one image, at the resolution of the explained layer. */
export interface GradCamResult {
  modelId: string;
  method: CamMethod;
  /** The explained layer and its output [height, width, channels]. */
  layer: string;
  layerShape: [number, number, number];
  /** The explained class, its index in the model's class names, and the model's probability for it. */
  targetClass: string;
  targetIndex: number;
  targetProbability: number;
  /** What the score was differentiated on: the head's logit (activation removed) or its probability. */
  score: 'logit' | 'probability';
  /** P(positive class) and the predicted label at the model's threshold. */
  probability: number;
  label: string;
  /** The heatmap grid (= layer height × width), row-major, ReLU'd and scaled so its max is 1. */
  width: number;
  height: number;
  cam: Float32Array;
  /** The maximum before scaling; 0 means no positive evidence for the class anywhere (cam all 0). */
  camMax: number;
  /** The original image size (the overlay's size) and how it was brought to the model's input. */
  image: { width: number; height: number };
  input: { width: number; height: number; resize: ResizeMode };
  milliseconds: number;
}

/** A central box in fractions of the image width/height (0 = left/top, 1 = right/bottom). */
export interface LungBox {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Where the Grad-CAM mass of one image lies. All fractions of the total mass, in [0, 1]. */
export interface ShortcutScore {
  /** Mass outside the lung box. */
  outside: number;
  /** Mass in each corner box (where burned-in text markers sit). */
  corners: { topLeft: number; topRight: number; bottomLeft: number; bottomRight: number };
  cornerTotal: number;
  /** True when the heatmap has no mass at all (fractions are then 0). */
  empty: boolean;
}

/** One audited image. */
export interface AuditCase {
  path: string;
  probability: number;
  label: string;
  targetClass: string;
  score: ShortcutScore;
  /** outside > maxOutside: the model looked mostly outside the lungs. */
  flagged: boolean;
  /** Set when the model's familiarity check would refuse the image in classify: why. */
  unfamiliar?: string;
}

/** The shortcut audit of a folder. */
export interface AuditReport {
  modelId: string;
  folder: string;
  layer: string;
  method: CamMethod;
  box: LungBox;
  /** Corner boxes: this fraction of the width × this fraction of the height, in each corner. */
  corner: number;
  maxOutside: number;
  /** Every audited image, worst (most mass outside the box) first. */
  cases: AuditCase[];
  flagged: number;
  failures: FileFailure[];
  milliseconds: number;
}
