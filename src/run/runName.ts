import { UsageError } from '../core/errors.js';

/** Run names become folder names: keep them portable and inside the output folder. */
export function runNameFrom(name: string): string {
  const clean = name.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+|[.-]+$/g, '').slice(0, 80);
  if (!clean) throw new UsageError(`run name '${name}' has no letters or digits left once made safe for a folder name; pass --run NAME`);
  // Windows cannot create folders named after its devices, whatever the extension.
  return /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i.test(clean) ? clean.replace(/^[^.]+/, '$&-run') : clean;
}
