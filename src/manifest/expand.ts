/**
 * Expansion: one written row → the rows it stands for. Identity for now; this is where
 * vars, templates, `{a|b}` alternatives, wildcards and sheets slot in. Whatever it
 * produces keeps the positions of the values it was made from, and records the choices
 * it made in `labels`, so validation errors still point at what the user wrote and the
 * report can group variations.
 */
import type { RawManifest, RawRow } from './raw.js';

export function expandRows(manifest: RawManifest): RawRow[] {
  return manifest.rows;
}
