import { createHash } from 'node:crypto';
import type { TaskSpec, VideoInput } from '../../src/core/types.js';

/** Hand-made task specs for store and loop tests that do not need the manifest reader. */
export function spec(n: number, input: Partial<VideoInput> = {}): TaskSpec {
  const full: VideoInput = { mode: 'text-to-video', prompt: `test prompt ${n}`, duration: 5, aspect_ratio: '16:9', ...input };
  return {
    key: createHash('sha256').update(JSON.stringify([n, full])).digest('hex').slice(0, 24),
    model: 'kling-2-5-turbo-pro',
    provider: 'auto',
    input: full,
    take: 1,
    source: { file: 'test.yaml', line: n },
    labels: {},
  };
}
