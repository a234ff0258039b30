// The machine's measured fp32 peak: an FMA loop on every native pool thread.
// Benchmarks divide achieved GFLOP/s by it (kernel efficiency, MFU).
import { loadAddon } from './native/addon.js';
import { gemmAddon, type PeakMeasurement } from './native/gemm.js';

export type { PeakMeasurement };

/**
 * Measures the peak with the native addon's active instruction set on all of
 * its threads, for about `seconds`. Throws when the addon is not available.
 */
export function measurePeakGflops(seconds = 1): PeakMeasurement {
  if (!(typeof seconds === 'number' && seconds > 0 && seconds <= 60)) {
    throw new RangeError(`measurePeakGflops: seconds must be in (0, 60], got ${String(seconds)}`);
  }
  const { addon, error } = loadAddon();
  if (!addon) throw new Error(`measurePeakGflops needs the native addon, which did not load: ${error}`);
  return gemmAddon(addon).peakGflops(seconds);
}
