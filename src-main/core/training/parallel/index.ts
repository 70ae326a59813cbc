// Data-parallel training and pooled inference over worker_threads, each worker with its own wasm (or cpu)
// engine. See docs/ARCHITECTURE.md ("Worker pool") and the files below.
export { ModelWorkerPool, type PoolOptions } from './worker-pool.ts';
export { parallelTrainStep, type StepTiming } from './train-step.ts';
export { predictParallel, predictWithPool, PredictionCancelled } from './predict-parallel.ts';
export { measureParallelInference, measureParallelTraining, type Throughput } from './measure.ts';
export { effectiveWorkers, parseWorkers } from './workers-option.ts';
export { shareGradients, trainingLoss, weightedBce } from './share-loss.ts';
