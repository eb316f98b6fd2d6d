import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDotEnv } from '../../src/cli/main.js';
import { tempDir } from '../helpers/tmp.js';

test('loadDotEnv: reads .env, never overrides what the environment already sets, and is a no-op without a file', (t) => {
  const dir = tempDir(t);
  const file = join(dir, '.env');
  writeFileSync(file, '# comment\nVIDBATCH_TEST_A=from-file\nVIDBATCH_TEST_B="quoted value"\n');
  process.env.VIDBATCH_TEST_A = 'from-env';
  t.after(() => {
    delete process.env.VIDBATCH_TEST_A;
    delete process.env.VIDBATCH_TEST_B;
  });
  assert.equal(loadDotEnv(file), true);
  assert.equal(process.env.VIDBATCH_TEST_A, 'from-env');
  assert.equal(process.env.VIDBATCH_TEST_B, 'quoted value');
  assert.equal(loadDotEnv(join(dir, 'missing.env')), false);
});
