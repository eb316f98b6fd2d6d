/**
 * Writes manifests/vidbatch-manifest.schema.json from the document schema:
 *
 *   node --import tsx src/manifest/writeJsonSchema.ts
 *
 * The file is committed so that editors find it (`# yaml-language-server: $schema=...`
 * at the top of a manifest); test/manifest/jsonSchema.test.ts fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { manifestJsonSchema } from './document.js';
import { isEntryPoint } from '../core/entryPoint.js';

export const JSON_SCHEMA_FILE = 'manifests/vidbatch-manifest.schema.json';

export function jsonSchemaText(): string {
  return JSON.stringify(manifestJsonSchema(), null, 2) + '\n';
}

if (isEntryPoint(import.meta.url)) {
  const file = resolve(process.argv[2] ?? JSON_SCHEMA_FILE);
  writeFileSync(file, jsonSchemaText());
  process.stdout.write(`wrote ${file}\n`);
}
