/**
 * The JSON the manifest stage hands on beside a task (its input, written while making
 * the key, and its labels, written from pieces) is what the store keeps in place of
 * JSON.stringify: it must say exactly what the task says, whatever the manifest. And the
 * flat records that carry tasks between threads must come out as they went in.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { TASK_RECORD_FIELDS, TaskRecordBatch, splitTaskRecords } from '../../src/core/taskRecord.js';
import type { TaskSpec } from '../../src/core/types.js';
import { streamManifest } from '../../src/manifest/index.js';
import { tempDir } from '../helpers/tmp.js';
import { MANIFESTS } from './helpers.js';

interface Written {
  task: TaskSpec;
  inputJson: string | undefined;
  labelsJson: string | undefined;
}

function stream(file: string, bytes: Buffer = readFileSync(file)): Written[] {
  const out: Written[] = [];
  streamManifest(file, bytes, (task, inputJson, labelsJson) => out.push({ task, inputJson, labelsJson }));
  return out;
}

function assertWrittenMatches(file: string, written: readonly Written[]): void {
  for (const { task, inputJson, labelsJson } of written) {
    const where = `${file}: task ${task.key} ${JSON.stringify(task.input)} ${JSON.stringify(task.labels)}`;
    if (inputJson !== undefined) assert.deepStrictEqual(JSON.parse(inputJson), task.input, where);
    if (labelsJson !== undefined) assert.deepStrictEqual(JSON.parse(labelsJson), task.labels, where);
  }
}

test('every example manifest: the JSON written beside a task parses to its input and labels', () => {
  const files = readdirSync(MANIFESTS).filter((f) => /\.(ya?ml|csv|jsonl)$/.test(f));
  assert.ok(files.length >= 6);
  let inputs = 0;
  for (const f of files) {
    const written = stream(path.join(MANIFESTS, f));
    assertWrittenMatches(f, written);
    inputs += written.filter((w) => w.inputJson !== undefined).length;
  }
  assert.ok(inputs > 0, 'the fast path wrote no input at all');
});

test('labels written from pieces: sheet columns and axes; whole when a template or a dropped aspect ratio changes them', (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'rows.csv'), 'prompt,scene,"odd ""col"""\n"a harbour, at dawn",harbour,x\n"a ""quoted"" alley",alley,"y, z"\nplain,,\n');
  writeFileSync(path.join(dir, 'stills.csv'), 'prompt,still\nzoom out,https://example.com/a.png\n');
  const cases: Record<string, string> = {
    axes: 'vars:\n  duration: [5, 10]\n  aspect_ratio: ["16:9", "1:1"]\nsheets:\n  - file: rows.csv\n',
    takes: 'takes: 2\nvars:\n  duration: [5, 10]\nsheets:\n  - file: rows.csv\n',
    alternatives: 'vars:\n  duration: [5, 10]\nsheets:\n  - file: rows.csv\n    prompt: "{{prompt}} {slow|fast} pan"\n',
    columnInPrompt: 'vars:\n  light: [night, day]\nsheets:\n  - file: rows.csv\n    prompt: "{{prompt}} by {{light}}, {{scene}}"\n',
    imageAspect: 'vars:\n  aspect_ratio: ["16:9", "9:16"]\nsheets:\n  - file: stills.csv\n    columns: {still: image_urls}\n',
    noLabels: 'vars:\n  duration: [5, 10]\ntasks:\n  - prompt: a lighthouse\n  - prompt: "a \\"quoted\\" fox"\n',
  };
  let labels = 0;
  for (const [name, yaml] of Object.entries(cases)) {
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(file, yaml);
    const written = stream(file);
    assert.ok(written.length > 0, name);
    assertWrittenMatches(name, written);
    labels += written.filter((w) => w.labelsJson !== undefined).length;
  }
  assert.ok(labels > 0, 'labels were never written from pieces');
});

const spec = (i: number, model: string, file: string): TaskSpec => ({
  key: `k${i}`,
  model,
  provider: i % 3 === 0 ? 'value' : 'auto',
  input: { mode: 'text-to-video', prompt: `shot ${i}` },
  take: 1 + (i % 2),
  source: { file, line: i + 2 },
  labels: { n: String(i) },
});

test('task records: repeated model, provider and source file travel once a batch and come back in every task', () => {
  const batch = new TaskRecordBatch();
  const tasks = Array.from({ length: 10 }, (_, i) => spec(i, i < 4 ? 'kling-2-5-turbo-pro' : 'kling-2-5-turbo-std', i % 5 === 0 ? '/m/a.csv' : '/m/b.csv'));
  const fields = (t: TaskSpec) => [t.key, t.model, t.provider, JSON.stringify(t.input), String(t.take), t.source.file, String(t.source.line), JSON.stringify(t.labels)];
  for (const t of tasks.slice(0, 6)) batch.add(t);
  const first = batch.take();
  for (const t of tasks.slice(6)) batch.add(t);
  const second = batch.take();
  // The batch after the first stands alone: it starts with every field.
  assert.deepEqual(splitTaskRecords(first), tasks.slice(0, 6).flatMap(fields));
  assert.deepEqual(splitTaskRecords(second), tasks.slice(6).flatMap(fields));
  assert.ok(first.length < tasks.slice(0, 6).flatMap(fields).join('\0').length, 'repeats were sent again');
  assert.equal(splitTaskRecords(second).length, 4 * TASK_RECORD_FIELDS);
  assert.deepEqual(splitTaskRecords(batch.take()), []);
});

test('task records: JSON written by the manifest stage is sent as written; an empty or NUL field is refused', () => {
  const batch = new TaskRecordBatch();
  batch.add(spec(1, 'm', '/f.csv'), '{"prompt":"shot 1","mode":"text-to-video"}', '{"n":"1"}');
  const r = splitTaskRecords(batch.take());
  assert.equal(r[3], '{"prompt":"shot 1","mode":"text-to-video"}');
  assert.equal(r[7], '{"n":"1"}');
  assert.throws(() => batch.add(spec(2, '', '/f.csv')), /empty model, provider or source file/);
  assert.throws(() => new TaskRecordBatch().add(spec(3, 'm', '/f\0.csv')), /NUL/);
});
