/**
 * Fuzzing the manifest reader: random bytes and mutated real sheets must end in a valid
 * Manifest or a ManifestError whose issues are positioned — never another exception, a
 * hang, or a task that breaks the rules. Seeded: a failure names its seed and iteration.
 * VIDBATCH_FUZZ_ITERATIONS raises the count for a longer local session.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ManifestError } from '../../src/core/errors.js';
import { parseManifest } from '../../src/manifest/index.js';
import { mulberry32, type Random } from '../../src/sim/prng.js';

const SHARED = resolve('../shared/data');
const ITERATIONS = Number(process.env.VIDBATCH_FUZZ_ITERATIONS ?? 8000);
const SEED = Number(process.env.VIDBATCH_FUZZ_SEED ?? 20260101);

function csvCell(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Valid sheets (so mutations reach validation) and real third-party files (read in place). */
function seeds(): { ext: string; bytes: Buffer }[] {
  const out: { ext: string; bytes: Buffer }[] = [];
  const add = (file: string, limit = 6000): void => {
    out.push({ ext: file.endsWith('.csv') ? '.csv' : '.yaml', bytes: readFileSync(file).subarray(0, limit) });
  };
  add(resolve('manifests/example.yaml'));
  add(resolve('manifests/example.csv'));
  for (const f of readdirSync(join(SHARED, 'csv_spectrum', 'csvs'))) add(join(SHARED, 'csv_spectrum', 'csvs', f));
  add(join(SHARED, 'open_sora', 'example.csv'));
  add(join(SHARED, 'node_csv_issues', '411.csv'));
  add(join(SHARED, 'yaml_test_suite', '26DV', 'in.yaml'));
  // Real prompts in our own columns: MovieGenBench's first rows, as a sheet and as YAML.
  const prompts = readFileSync(join(SHARED, 'moviegenbench', 'MovieGenVideoBench.txt'), 'utf8').split('\n').filter(Boolean).slice(0, 12);
  out.push({ ext: '.csv', bytes: Buffer.from('prompt,duration,aspect_ratio,cfg_scale\n' + prompts.map((p, i) => `${csvCell(p)},${i % 2 ? 10 : 5},9:16,0.${i % 9}`).join('\r\n') + '\r\n') });
  out.push({ ext: '.yaml', bytes: Buffer.from('name: mgb\ndefaults:\n  negative_prompt: blur\ntasks:\n' + prompts.map((p) => `  - prompt: ${JSON.stringify(p)}\n    duration: 10\n`).join('')) });
  return out;
}

const TOKENS = ['"', "'", '\n', '\r\n', '\r', ',', ';', ':', ': ', '- ', '  ', '\t', '#', '&a ', '*a', '!!binary ', '<<: ', '{', '}', '[', ']', '|', '>', '---\n', '...\n',
  '\u0000', '\uFEFF', 'é', '😀', '\u202E', 'prompt', 'duration: 10', 'image_urls: [http://x.invalid/a.png]', 'takes: 99999999', '%YAML 1.2\n', '?', '@', '`'];

function mutate(src: Buffer, r: Random): Buffer {
  let b = Buffer.from(src);
  const n = 1 + Math.floor(r() * r() * 5);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (b.length + 1));
    switch (Math.floor(r() * 6)) {
      case 0: // flip a byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] = Math.floor(r() * 256);
        break;
      case 1: // insert a token
        b = Buffer.concat([b.subarray(0, at), Buffer.from(TOKENS[Math.floor(r() * TOKENS.length)]!), b.subarray(at)]);
        break;
      case 2: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + Math.floor(r() * 40))]);
        break;
      case 3: { // duplicate a range
        const len = Math.floor(r() * 200);
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        break;
      }
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      default: // random bytes
        b = Buffer.concat([b.subarray(0, at), randomBytes(r, Math.floor(r() * 16)), b.subarray(at)]);
    }
  }
  return b;
}

function randomBytes(r: Random, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
}

function check(name: string, bytes: Buffer, where: string): 'ok' | 'refused' {
  let result: ReturnType<typeof parseManifest>;
  try {
    result = parseManifest(name, bytes);
  } catch (e) {
    assert.ok(e instanceof ManifestError, `${where}: threw ${e instanceof Error ? e.stack : String(e)}`);
    assert.ok(e.issues.length > 0, where);
    for (const i of e.issues) {
      assert.equal(i.file, name, where);
      assert.ok(Number.isInteger(i.line) && i.line >= 0 && Number.isInteger(i.column) && i.column >= 0, `${where}: ${JSON.stringify(i)}`);
      assert.ok(i.message.length > 0, where);
    }
    return 'refused';
  }
  assert.ok(result.tasks.length > 0, where);
  for (const t of result.tasks) {
    assert.match(t.key, /^[0-9a-f]{24}$/, where);
    assert.ok(t.input.prompt.trim().length > 0 && [...t.input.prompt].length <= 2500, where);
    assert.ok(t.input.duration === 5 || t.input.duration === 10, where);
    assert.ok((t.input.image_urls?.length ?? 0) <= 2, where);
    for (const u of t.input.image_urls ?? []) assert.match(u, /^https?:\/\//i, where);
    if (t.input.cfg_scale !== undefined) assert.ok(t.input.cfg_scale >= 0 && t.input.cfg_scale <= 1, where);
  }
  return 'ok';
}

test(`fuzz: ${ITERATIONS} random and mutated sheets end in a Manifest or a positioned ManifestError`, () => {
  const r = mulberry32(SEED);
  const pool = seeds();
  const tally = { ok: 0, refused: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    const seed = pool[Math.floor(r() * pool.length)]!;
    const random = r() < 0.15;
    const bytes = random ? randomBytes(r, Math.floor(r() * 400)) : mutate(seed.bytes, r);
    // Mostly under the seed's own format, sometimes under the other one.
    const ext = r() < 0.8 ? seed.ext : seed.ext === '.csv' ? '.yaml' : '.csv';
    tally[check(`fuzz${ext}`, bytes, `seed ${SEED}, iteration ${i}`)]++;
  }
  // Both outcomes must occur, or the mutations are too weak (or too strong) to mean anything.
  assert.ok(tally.ok > ITERATIONS * 0.03 && tally.refused > ITERATIONS * 0.3, JSON.stringify(tally));
});
