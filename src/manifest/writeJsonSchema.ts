/**
 * Writes manifests/vidbatch-manifest.schema.json from the document schema:
 *
 *   node --import tsx src/manifest/writeJsonSchema.ts
 *
 * The file is committed so that editors find it (`# yaml-language-server: $schema=...`
 * at the top of a manifest); test/manifest/jsonSchema.test.ts fails when it is stale.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestJsonSchema } from './document.js';

export const JSON_SCHEMA_FILE = 'manifests/vidbatch-manifest.schema.json';

export function jsonSchemaText(): string {
  return JSON.stringify(manifestJsonSchema(), null, 2) + '\n';
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const file = resolve(process.argv[2] ?? JSON_SCHEMA_FILE);
  writeFileSync(file, jsonSchemaText());
  process.stdout.write(`wrote ${file}\n`);
}
