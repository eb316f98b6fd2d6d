/**
 * The broken-manifest corpus: our own fixtures, the CSV files of csv-parse's bug reports and
 * every must-fail case of the YAML test suite (read in place under ../shared/data). Each one,
 * given to `vidbatch run`, must exit 3 with every problem positioned (file:line:column, or the
 * file itself for a whole-file problem), send zero requests and write nothing.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli/main.js';
import { ManifestError } from '../../src/core/errors.js';
import { parseManifest } from '../../src/manifest/index.js';
import { tempDir } from '../helpers/tmp.js';
import { simulator, TEST_KEY } from '../helpers/fixtures.js';

const FIXTURES = resolve('test/badinput/fixtures');
const SHARED = resolve('../shared/data');

/** Our fixtures and the line of their first problem (0: a problem of the whole file). */
const OWN: Record<string, number> = {
  'alias-bomb.yaml': 1, 'aspect-4-3.yaml': 3, 'bad-duration.csv': 3, 'bad-provider.yaml': 1, 'cfg-out-of-range.yaml': 3,
  'duplicate-key.yaml': 3, 'duration-7.yaml': 4, 'empty-prompt.yaml': 2, 'empty.csv': 0, 'empty.yaml': 0, 'extra-cells.csv': 2,
  'ftp-image.yaml': 3, 'header-only.csv': 0, 'i2v-without-images.yaml': 2, 'image-not-url.csv': 2, 'latin1.csv': 2,
  'misspelt-field.yaml': 2, 'model-path.yaml': 3, 'no-prompt-column.csv': 1, 'no-tasks.yaml': 1, 'prompt-is-a-map.yaml': 3,
  'prompt-too-long.yaml': 2, 'quote-in-field.csv': 2, 'semicolons.csv': 1, 'string-duration.yaml': 3, 't2v-with-images.yaml': 4,
  'tab-indent.yaml': 2, 'takes-zero.yaml': 3, 'tasks-empty.yaml': 1, 'tasks-not-a-list.yaml': 1, 'three-images.yaml': 4,
  'top-level-list.yaml': 1, 'unclosed-quote.csv': 2, 'unclosed-quote.yaml': 4, 'utf16-without-bom.csv': 1, 'utf32.yaml': 0,
  'whitespace-prompt.yaml': 2, 'wrong-extension.json': 0,
};

function yamlSuiteErrors(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (existsSync(join(dir, 'error')) && existsSync(join(dir, 'in.yaml'))) out.push(join(dir, 'in.yaml'));
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
  };
  walk(join(SHARED, 'yaml_test_suite'));
  return out.sort();
}

const csvIssues = readdirSync(join(SHARED, 'node_csv_issues')).filter((f) => f !== 'LICENSE').map((f) => join(SHARED, 'node_csv_issues', f)).sort();
const yamlErrors = yamlSuiteErrors();

test('the corpus is what it claims: ≥ 30 of our own, the csv-parse issue files, the YAML suite failures', () => {
  assert.deepEqual(readdirSync(FIXTURES).sort(), Object.keys(OWN).sort(), 'every fixture has an expected line');
  assert.ok(Object.keys(OWN).length >= 30);
  assert.ok(csvIssues.length >= 10, `${csvIssues.length} csv-parse issue files`);
  assert.ok(yamlErrors.length >= 90, `${yamlErrors.length} YAML must-fail cases`);
});

/**
 * `vidbatch run FILE` in this process (a child per file would cost a second each), its
 * stderr captured. stdout is left alone: the test runner reports there.
 */
async function runCli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const errWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'vidbatch', ...args]);
    return { code, stderr };
  } finally {
    process.stderr.write = errWrite;
  }
}

test('every broken manifest: exit 3, every problem positioned, zero requests, nothing written', async (t) => {
  const sim = await simulator(t);
  const dir = tempDir(t);
  process.env.APIXO_BASE_URL = sim.url;
  process.env.APIXO_API_KEY = TEST_KEY;
  const all = [...Object.keys(OWN).map((f) => join(FIXTURES, f)), ...csvIssues, ...yamlErrors];
  for (const [i, file] of all.entries()) {
    const out = join(dir, `out${i}`);
    const r = await runCli(['run', file, '--out', out]);
    assert.equal(r.code, 3, `${file}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, /problems? in the manifest; nothing was sent/, file);
    // Each problem line names the file; with a line number unless the whole file is at fault.
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('  '));
    assert.ok(lines.length >= 1, file);
    for (const l of lines) assert.ok(l.trimStart().startsWith(file), `${file}: ${l}`);
    assert.equal(existsSync(out), false, `${file}: wrote ${out}`);
    assert.ok(!r.stderr.includes(TEST_KEY));
  }
  assert.equal(sim.stats().requests, 0);
});

test('our fixtures: the first problem is on the expected line, with a message', () => {
  for (const [name, line] of Object.entries(OWN)) {
    const file = join(FIXTURES, name);
    assert.throws(() => parseManifest(file, readFileSync(file)), (e: unknown) => {
      assert.ok(e instanceof ManifestError, `${name}: ${String(e)}`);
      const first = e.issues[0]!;
      assert.equal(first.file, file);
      assert.equal(first.line, line, `${name}: ${first.line}:${first.column} ${first.message}`);
      if (line > 0) assert.ok(first.column >= 1, `${name}: a column too`);
      assert.ok(first.message.length > 10);
      return true;
    });
  }
});

test('shared files: every YAML must-fail case and csv-parse issue file is refused with a position', () => {
  let fileLevel = 0;
  for (const file of [...csvIssues, ...yamlErrors]) {
    assert.throws(() => parseManifest(file, readFileSync(file)), (e: unknown) => {
      assert.ok(e instanceof ManifestError, `${file}: ${String(e)}`);
      for (const i of e.issues) assert.equal(i.file, file);
      if (e.issues[0]!.line === 0) fileLevel++;
      return true;
    });
  }
  // Only the whole-file verdicts (an unsupported extension, an empty document) lack a line.
  assert.ok(fileLevel <= 3, `${fileLevel} problems without a line`);
});
