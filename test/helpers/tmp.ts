import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory per test, removed afterwards unless VIDBATCH_KEEP_TMP is set. */
export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'vidbatch-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => {
    if (!process.env.VIDBATCH_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
