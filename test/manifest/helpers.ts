/** Shared by the manifest tests: parse text, expect failure, get the issues. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ManifestError } from '../../src/core/errors.js';
import type { ManifestIssue } from '../../src/core/errors.js';
import { parseManifest, readManifest } from '../../src/manifest/index.js';
import type { Manifest } from '../../src/manifest/index.js';

/** Real third-party data, read in place (never copied into the project). */
export const DATA = path.resolve('..', 'shared', 'data');
export const MANIFESTS = path.resolve('manifests');

export function parseText(file: string, text: string | Buffer): Manifest {
  return parseManifest(file, typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
}

export function issuesOf(file: string, text: string | Buffer): ManifestIssue[] {
  try {
    parseText(file, text);
  } catch (e) {
    assert.ok(e instanceof ManifestError, `expected a ManifestError, got ${String(e)}`);
    assert.equal(e.code, 'E_MANIFEST_INVALID');
    return [...e.issues];
  }
  assert.fail(`expected ${file} to be rejected`);
}

/** The one issue for `field`, checked for position; its message returned for further checks. */
export function expectIssue(issues: readonly ManifestIssue[], field: string, line: number, column: number, message?: RegExp): ManifestIssue {
  const found = issues.filter((i) => i.field === field);
  assert.equal(found.length, 1, `expected one issue for ${field}, got: ${JSON.stringify(issues, null, 1)}`);
  const issue = found[0]!;
  assert.deepEqual({ line: issue.line, column: issue.column }, { line, column }, `position of ${field}: ${issue.message}`);
  if (message) assert.match(issue.message, message);
  return issue;
}

/** Write `files` (name → content) into `dir` and read `main` from there as a manifest. */
export async function manifestIn(dir: string, files: Record<string, string | Buffer>, main = 'm.yaml'): Promise<Manifest> {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return readManifest(path.join(dir, main));
}

/** The problems `manifestIn` finds, or a failed assertion if it finds none. */
export async function issuesIn(dir: string, files: Record<string, string | Buffer>, main = 'm.yaml'): Promise<ManifestIssue[]> {
  try {
    await manifestIn(dir, files, main);
  } catch (e) {
    assert.ok(e instanceof ManifestError, `expected a ManifestError, got ${String(e)}`);
    return [...e.issues];
  }
  assert.fail(`expected ${main} to be rejected`);
}

/** prompt → labels, for compact assertions. */
export const promptsOf = (m: Manifest): string[] => m.tasks.map((t) => t.input.prompt);
