import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SHEET_KEYS, TASK_KEYS, TOP_LEVEL_KEYS } from '../../src/manifest/document.js';
import { JSON_SCHEMA_FILE, jsonSchemaText } from '../../src/manifest/writeJsonSchema.js';

type Schema = { properties: Record<string, Schema>; items?: Schema; additionalProperties?: unknown; enum?: unknown[]; required?: string[]; anyOf?: Schema[] };

test(`${JSON_SCHEMA_FILE} is generated from the validator's schema and up to date`, () => {
  const committed = readFileSync(JSON_SCHEMA_FILE, 'utf8');
  assert.equal(committed, jsonSchemaText(), `stale: run  node --import tsx src/manifest/writeJsonSchema.ts`);
});

test('the JSON Schema knows every key the reader knows, and refuses others', () => {
  const schema = JSON.parse(jsonSchemaText()) as Schema & { $schema: string };
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.deepEqual(Object.keys(schema.properties), [...TOP_LEVEL_KEYS]);
  assert.equal(schema.additionalProperties, false);
  const task = schema.properties['tasks']!.items!;
  const sheet = schema.properties['sheets']!.items!;
  assert.deepEqual(Object.keys(task.properties), [...TASK_KEYS]);
  assert.deepEqual(Object.keys(sheet.properties), [...SHEET_KEYS]);
  assert.equal(task.additionalProperties, false);
  assert.deepEqual(sheet.required, ['file']);
  assert.equal(task.required, undefined, 'a prompt may come from defaults or an axis');
  assert.deepEqual(task.properties['duration']!.enum, [5, 10]);
  assert.deepEqual(task.properties['aspect_ratio']!.enum, ['16:9', '9:16', '1:1']);
  assert.deepEqual(sheet.properties['format']!.enum, ['csv', 'tsv', 'jsonl', 'json', 'txt']);
});
