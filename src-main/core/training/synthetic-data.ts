// Test data for the training loop: S×S gray noise images, positives carrying a bright square.
import { createRng } from '../dataset/rng.ts';
import type { ArrayDataset } from './fit.ts';

/** `n` seeded images of size×size×1; image i is positive when `isPositive(i)` (odd i by default). */
export function syntheticDataset(n: number, seed: number, size = 64, isPositive = (i: number) => i % 2 === 1): ArrayDataset {
  const rnd = createRng(seed);
  const pixels: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = isPositive(i) ? 1 : 0;
    const a = new Float32Array(size * size).map(() => rnd() * 0.3);
    if (label) for (let y = 8; y < 24; y++) for (let x = 8; x < 24; x++) a[y * size + x] += 0.7;
    pixels.push(a);
    labels.push(label);
  }
  return { pixels, labels };
}
