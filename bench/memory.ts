/** Memory of one measured run, in bytes. */
export interface MemoryFigures {
  /** Resident set size just before the run, after modules and config loaded. */
  rssBeforeBytes: number;
  /** `process.resourceUsage().maxRSS`: the peak RSS of the process's life. */
  maxRssBytes: number;
  /** `maxRssBytes - rssBeforeBytes`: what the run itself added. */
  rssDeltaBytes: number;
  heapUsedBeforeBytes: number;
  /** Largest `heapUsed` seen by the sampler during the run. */
  peakHeapUsedBytes: number;
  samples: number;
}

/** How often the sampler reads `heapUsed`. */
const SAMPLE_INTERVAL_MS = 5;

/**
 * Samples the V8 heap while `work` runs. A timer cannot fire during
 * synchronous work, so the sampled heap peak can miss a short spike. The
 * RSS peak comes from the kernel and misses nothing.
 */
export async function measureMemory<T>(
  work: () => Promise<T>,
): Promise<{ value: T; memory: MemoryFigures }> {
  const before = process.memoryUsage();
  let peakHeapUsedBytes = before.heapUsed;
  let samples = 0;
  const sample = () => {
    const heapUsed = process.memoryUsage().heapUsed;
    if (heapUsed > peakHeapUsedBytes) peakHeapUsedBytes = heapUsed;
    samples++;
  };
  const timer = setInterval(sample, SAMPLE_INTERVAL_MS);
  let value: T;
  try {
    value = await work();
  } finally {
    clearInterval(timer);
  }
  sample();
  // resourceUsage() reports maxRSS in kilobytes.
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;

  return {
    value,
    memory: {
      rssBeforeBytes: before.rss,
      maxRssBytes,
      rssDeltaBytes: maxRssBytes - before.rss,
      heapUsedBeforeBytes: before.heapUsed,
      peakHeapUsedBytes,
      samples,
    },
  };
}
