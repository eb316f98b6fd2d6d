/**
 * Names taken from prompts and run names never leave the output folder and stay portable:
 * ASCII letters, digits, dashes; bounded length; no Windows device names or reserved
 * characters; distinct tasks get distinct names.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { join, relative, resolve, sep } from 'node:path';
import { videoFileName } from '../../src/fetch/archive.js';
import { runNameFrom } from '../../src/run/run.js';

const HOSTILE = [
  '../../../../etc/passwd', '..\\..\\Windows\\System32\\config', '/absolute/path', 'C:\\Users\\x', 'CON', 'nul.txt', 'LPT1',
  'a<b>c:d"e/f\\g|h?i*j', '.', '..', '...', ' ', '\u0000hidden', 'trailing dot.', 'trailing space ', '\u202Egnp.exe',
  '😀🎬🔥', 'Ünïcödé façade — naïve café', '日本語のプロンプト', 'x'.repeat(10_000), '-rf --no-preserve-root', '$(rm -rf ~)', '%2e%2e%2f',
  'line\nbreak\r\nand\ttab', '#violation ../x',
];
const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

test('video file names from hostile prompts: portable, bounded, inside the folder, distinct', () => {
  const dir = resolve('/tmp/out/run');
  const names = new Set<string>();
  HOSTILE.forEach((prompt, i) => {
    const name = videoFileName({ seq: i + 1, key: `${i.toString(16).padStart(2, '0')}9f8e7d6c5b4a3f2e1d0c9b8a`.slice(0, 24), input: { mode: 'text-to-video', prompt }, take: 1 + (i % 3) });
    assert.match(name, /^[0-9]{4}-[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{8}\.mp4$/, JSON.stringify(prompt));
    assert.ok(name.length <= 80, `${name.length} characters`);
    assert.ok(!WINDOWS_DEVICES.test(name.split('.')[0]!));
    const full = join(dir, name);
    assert.ok(!relative(dir, full).startsWith('..') && !relative(dir, full).includes(sep), name);
    names.add(name);
  });
  assert.equal(names.size, HOSTILE.length);
});

test('run names from hostile input stay one portable folder name inside the output folder', () => {
  for (const raw of HOSTILE) {
    let name: string;
    try {
      name = runNameFrom(raw);
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'E_USAGE', JSON.stringify(raw)); // nothing usable left: refused, with advice
      continue;
    }
    assert.match(name, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, JSON.stringify(raw));
    assert.ok(!name.endsWith('.') && name.length <= 80, name);
    assert.equal(relative('/out', join('/out', name)), name);
  }
});

test('run names that are Windows device names are made safe', () => {
  for (const raw of ['CON', 'nul.txt', 'LPT1', 'aux']) assert.ok(!WINDOWS_DEVICES.test(runNameFrom(raw)), raw);
});
