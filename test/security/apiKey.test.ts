/**
 * The API key never appears anywhere: every command is run with a marker key — through
 * faults, in_doubt, retries, a refused key, a key pasted into the base URL — and every
 * stream and every file left behind (database and its WAL, sidecars, results, logs, the
 * gallery, exports) is searched for it.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { simulator, writeManifest } from '../helpers/fixtures.js';
import { allFiles, cli, type Child } from '../chaos/helpers.js';

const MARKER = 'sk-MARKER-7f3e9a1c5b2d4e6f8a0b';

async function finish(c: Child): Promise<{ code: number | null; out: string }> {
  const code = await c.done;
  return { code, out: c.stdout() + c.stderr() };
}

test('the key appears in no stream and no file, whatever happens', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'out');
  const db = join(out, 'vidbatch.db');
  const sim = await simulator(t, {
    apiKeys: [MARKER],
    timeScale: 0.005,
    seed: 5,
    faults: { failBeforeCreate: 0.2, failAfterCreate: 0.15, resetAfterCreate: 0.1, truncateDownload: 0.3, expiredUrl: 0.3 },
  });
  const manifest = writeManifest(dir, 8, ['  - prompt: "refused #violation"']);
  const env = { APIXO_BASE_URL: sim.url, APIXO_API_KEY: MARKER };
  const poll = ['--first-poll', '150', '--poll-interval', '25'];
  const streams: string[] = [];
  const expect = async (c: Child, codes: (number | null)[]): Promise<void> => {
    const r = await finish(c);
    streams.push(r.out);
    assert.ok(codes.includes(r.code), `exit ${r.code}: ${r.out}`);
  };

  await expect(cli(['run', manifest, '--out', out, '-v', ...poll], env), [4]);
  await expect(cli(['run', manifest, '--out', out, '--json', ...poll], env), [4]);
  await expect(cli(['status', '--db', db]), [0]);
  await expect(cli(['status', '--db', db, '--json']), [0]);
  await expect(cli(['retry', '--in-doubt', '--failed', '--db', db, '--json']), [0]);
  await expect(cli(['retry', '--in-doubt', '--db', db, '--yes']), [0]);
  await expect(cli(['run', manifest, '--out', out, '--json', ...poll], env), [0, 4]);
  await expect(cli(['export', '--out', out, '--format', 'jsonl', '-o', join(out, 'export.jsonl')]), [0]);
  await expect(cli(['report', '--out', out, '--no-posters']), [0]);

  // A refused key: exit 5, the variable named, the key not shown.
  const refusing = await simulator(t, { apiKeys: ['sk-the-right-key-000000'] });
  const refused = await finish(cli(['run', manifest, '--out', join(dir, 'out401'), ...poll], { APIXO_BASE_URL: refusing.url, APIXO_API_KEY: MARKER }));
  streams.push(refused.out);
  assert.equal(refused.code, 5, refused.out);
  assert.match(refused.out, /APIXO_API_KEY/);

  // The key pasted into the base URL, as a password or in the query: refused, not echoed.
  for (const base of [`http://user:${MARKER}@127.0.0.1:9/`, `http://127.0.0.1:9/?key=${MARKER}`, `http://${MARKER}@127.0.0.1:9`]) {
    const r = await finish(cli(['run', manifest, '--out', join(dir, 'outUrl')], { APIXO_BASE_URL: base, APIXO_API_KEY: MARKER }));
    streams.push(r.out);
    assert.equal(r.code, 2, r.out);
  }

  assert.ok(sim.stats().faults.failAfterCreate + sim.stats().faults.resetAfterCreate > 0, 'errors carrying request data happened');
  for (const [i, s] of streams.entries()) assert.ok(!s.includes(MARKER), `stream ${i} shows the key:\n${s}`);
  const files = allFiles(dir);
  assert.ok(files.some((f) => f.endsWith('vidbatch.db')) && files.some((f) => f.endsWith('.json')) && files.some((f) => f.endsWith('results.jsonl')));
  for (const f of files) assert.ok(!readFileSync(f).includes(MARKER), `${f} holds the key`);
});
