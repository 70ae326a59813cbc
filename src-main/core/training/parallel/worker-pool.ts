import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchNormsInInference } from '../batch-norm-mode.ts';
import { layoutOf, sharedFloats, weightView, type FromWorker, type InitMessage, type ToWorker, type WeightLayout } from './protocol.ts';

const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url);
const MOVING_STAT = /moving_(mean|variance)/;

/** How to start a pool. */
export interface PoolOptions {
  /** Worker threads to start (the main thread computes a share too, so cores used = threads + 1). */
  threads: number;
  /** Largest batch the shared input buffer holds. */
  maxBatch: number;
  /** Backend of every worker (default: the main thread's, which must be wasm or cpu). */
  backend?: 'wasm' | 'cpu';
  /** Largest micro-batch of a training share (default: the whole share). */
  micro?: number;
}

interface Slot {
  worker: Worker;
  result: Float32Array;
  pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | null;
  dead: Error | null;
}

/**
 * Worker threads that each hold their own tfjs engine (wasm or cpu) and a copy of one model, rebuilt from its
 * JSON topology. The current weights, the batch pixels and the predictions live in SharedArrayBuffers; each
 * worker also has a shared result area for its gradients. Workers keep the process alive only while a task
 * is in flight; call `terminate()` when done.
 */
export class ModelWorkerPool {
  readonly layout: WeightLayout;
  /** Indices into `model.weights` of the trainable weights, in `model.trainableWeights` order. */
  readonly trainable: number[];
  readonly moving: number[];
  readonly weights: Float32Array;
  readonly inputs: Float32Array;
  readonly outputs: Float32Array;
  /** Set to 1 to stop every worker's training share before its next micro-batch (reset by each step). */
  readonly cancelFlag = new Int32Array(new SharedArrayBuffer(4));
  readonly sampleSize: number;
  readonly outSize: number;
  readonly slots: Slot[] = [];
  readonly details: string[] = [];
  private version = 0;
  private nextId = 1;
  private closed = false;

  private constructor(readonly model: tfl.LayersModel, readonly maxBatch: number, readonly micro: number) {
    const weights = model.weights;
    this.layout = layoutOf(weights.map((w) => w.shape as number[]));
    const index = new Map(weights.map((w, i) => [w, i]));
    this.trainable = model.trainableWeights.map((w) => index.get(w)!);
    this.moving = weights.flatMap((w, i) => (MOVING_STAT.test(w.name) && !this.trainable.includes(i) ? [i] : []));
    this.sampleSize = (model.inputs[0].shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    this.outSize = (model.outputs[0].shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    this.weights = sharedFloats(this.layout.total);
    this.inputs = sharedFloats(maxBatch * this.sampleSize);
    this.outputs = sharedFloats(maxBatch * this.outSize);
  }

  /** Starts `o.threads` workers for `model` and waits until each has built it. */
  static async start(model: tfl.LayersModel, o: PoolOptions): Promise<ModelWorkerPool> {
    const backend = o.backend ?? tf.getBackend();
    if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`model workers need the wasm or cpu backend (the main thread uses ${backend})`);
    if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error('model workers support models with one input and one output');
    const pool = new ModelWorkerPool(model, Math.max(1, o.maxBatch), Math.max(1, Math.floor(o.micro ?? o.maxBatch)));
    const inInference = batchNormsInInference(model);
    const topology = model.toJSON(null, false) as object;
    try {
      const ready = [];
      for (let k = 0; k < o.threads; k++) {
        const slot: Slot = { worker: new Worker(BOOTSTRAP, { execArgv: [] }), result: sharedFloats(pool.layout.total), pending: null, dead: null };
        pool.slots.push(slot);
        slot.worker.on('message', (m: FromWorker) => pool.onMessage(slot, m));
        slot.worker.on('error', (e) => pool.onDead(slot, e));
        slot.worker.on('exit', (code) => pool.onDead(slot, new Error(`model worker exited (code ${code})`)));
        const init: InitMessage = {
          type: 'init', topology, backend, shapes: pool.layout.shapes, trainable: pool.trainable, moving: pool.moving,
          weights: pool.weights, inputs: pool.inputs, outputs: pool.outputs, result: slot.result, sampleSize: pool.sampleSize, outSize: pool.outSize,
          micro: pool.micro, cancelFlag: pool.cancelFlag, batchNormsInInference: inInference,
        };
        ready.push(pool.send(slot, init));
      }
      for (const m of await Promise.all(ready)) if (m.type === 'ready') pool.details.push(m.detail);
    } catch (e) {
      await pool.terminate();
      throw e;
    }
    return pool;
  }

  /** Number of worker threads. */
  get threads(): number {
    return this.slots.length;
  }

  /** Copies the model's current weights into the shared buffer; workers reload them on their next task. */
  syncWeights(): void {
    this.model.weights.forEach((w, i) => weightView(this.weights, this.layout, i).set(w.read().dataSync() as Float32Array));
    this.version++;
  }

  /** Posts a training share (rows [start, end) of `inputs`) to worker `k`. */
  grad(k: number, start: number, end: number, labels: number[], sampleWeights: number[], dropoutSeed?: number): Promise<Extract<FromWorker, { type: 'done' }>> {
    return this.send(this.slots[k], { type: 'grad', id: this.nextId++, version: this.version, start, end, labels, sampleWeights, dropoutSeed }) as never;
  }

  /** Posts a prediction share (rows [start, end) of `inputs`, written to the same rows of `outputs`) to worker `k`. */
  predict(k: number, start: number, end: number): Promise<FromWorker> {
    return this.send(this.slots[k], { type: 'predict', id: this.nextId++, version: this.version, start, end });
  }

  private send(slot: Slot, m: ToWorker): Promise<FromWorker> {
    if (this.closed) return Promise.reject(new Error('the model worker pool is closed'));
    if (slot.dead) return Promise.reject(slot.dead);
    if (slot.pending) return Promise.reject(new Error('model worker is busy'));
    return new Promise<FromWorker>((resolve, reject) => {
      slot.pending = { resolve, reject };
      slot.worker.ref();
      slot.worker.postMessage(m);
    });
  }

  private settle(slot: Slot): Slot['pending'] {
    const p = slot.pending;
    slot.pending = null;
    slot.worker.unref();
    return p;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    const p = this.settle(slot);
    if (m.type === 'error') p?.reject(new Error(`model worker: ${m.message}`));
    else p?.resolve(m);
  }

  private onDead(slot: Slot, e: Error): void {
    if (!slot.dead) slot.dead = this.closed ? new Error('the model worker pool is closed') : e;
    this.settle(slot)?.reject(slot.dead);
  }

  /** Stops every worker (pending tasks are rejected). Safe to call more than once. */
  async terminate(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate().catch(() => 0)));
  }
}
