/**
 * What the case viewer (and `cxr explain --layers … --gradcam`) shows for one image: every chosen layer's
 * maps and a Grad-CAM, from ONE decode and ONE forward pass. The Grad-CAM layer's output and the prediction
 * are kept from the activations pass, so Grad-CAM only runs the tail of the graph and its gradient (for the
 * default ensemble this halves the time; `npm run bench`, "activations + Grad-CAM").
 */
import type { ActivationsResult, GradCamResult } from '../../../src-shared/explain-types.ts';
import { activationsKeeping, type ActivationOptions, type OnLayer } from './activations.ts';
import { prepareImage, type ExplainModel, type ImageSource } from './explain-model.ts';
import { gradCam, resolveCamLayer, type GradCamOptions } from './gradcam.ts';

/** Activations (streamed to `onLayer`, as `streamActivations` does) and a Grad-CAM of one image. */
export async function explainImage(
  ref: ExplainModel,
  image: ImageSource,
  onLayer: OnLayer,
  opts: ActivationOptions & { cam?: GradCamOptions } = {},
): Promise<{ activations: Omit<ActivationsResult, 'layers'>; cam: GradCamResult }> {
  const layer = resolveCamLayer(ref, opts.cam?.layer);
  const prepared = await prepareImage(image, ref.metadata.input);
  const { kept, ...activations } = await activationsKeeping(ref, prepared, onLayer, { layers: opts.layers }, layer);
  try {
    // Without the layer among the chosen ones nothing was kept, and Grad-CAM runs its own forward pass.
    const cam = await gradCam(ref, prepared, { ...opts.cam, layer }, kept);
    return { activations, cam };
  } finally {
    kept?.activation.dispose();
  }
}
