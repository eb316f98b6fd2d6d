import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { decodeManifest, firstInvalidUtf8 } from '../../src/manifest/decode.js';
import { DATA, expectIssue, issuesOf, parseText } from './helpers.js';

const CSV = 'prompt,duration\r\n"café au lait, 東京 at dawn 🌊",10\r\nplain,5\r\n';
const utf16le = (s: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
const utf16be = (s: string): Buffer => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(s, 'utf16le').swap16()]);

test('UTF-8 with BOM, UTF-16 LE and BE with BOM: the same tasks, the same keys, the same positions', () => {
  const plain = parseText('a.csv', CSV);
  for (const bytes of [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CSV)]), utf16le(CSV), utf16be(CSV)]) {
    const m = parseText('a.csv', bytes);
    assert.deepEqual(m.tasks, plain.tasks);
  }
  assert.equal(plain.tasks[0]!.input.prompt, 'café au lait, 東京 at dawn 🌊');
  // Positions after a BOM count from the first real character.
  const issues = issuesOf('b.csv', utf16le('prompt,duration\r\nok,7\r\n'));
  expectIssue(issues, 'rows[0].duration', 2, 4);
});

test('YAML in UTF-16 with a BOM reads too', () => {
  const m = parseText('a.yaml', utf16le('name: wide\ntasks:\n  - prompt: "über"\n'));
  assert.equal(m.name, 'wide');
  assert.equal(m.tasks[0]!.input.prompt, 'über');
});

test('Latin-1 is refused with the offending byte, its offset and line, never turned into mojibake', () => {
  const bytes = Buffer.from('prompt\nsmooth jazz\ncafé crème\n', 'latin1');
  const issues = issuesOf('latin1.csv', bytes);
  assert.equal(issues.length, 1);
  const issue = expectIssue(issues, '', 3, 4);
  assert.match(issue.message, /not valid UTF-8: byte 0xE9 at byte offset 22 \(line 3, byte 4 of the line\)/);
  assert.match(issue.message, /Latin-1 or Windows-1252/);
});

test('real files from csv-parse bug reports: UTF-16LE and UTF-8 with BOM (Windows), Latin-1', () => {
  const dir = path.join(DATA, 'node_csv_issues');
  // Both hold "a,b,c\r\n1,2,3": decoded, they are sheets with three unknown columns.
  for (const name of ['365-utf16le-bom-windows.csv', '365-utf8-bom-windows.csv']) {
    const file = path.join(dir, name);
    const issues = issuesOf(file, readFileSync(file));
    expectIssue(issues, 'a', 1, 1, /unknown column 'a'/);
    expectIssue(issues, 'b', 1, 3, /unknown column 'b'/);
    expectIssue(issues, 'c', 1, 5, /unknown column 'c'/);
  }
  // "Acentuação" in ISO-8859-1: 0xE7 (ç) is the first byte that is not UTF-8.
  const latin1 = path.join(dir, '327.cws.csv');
  const issues = issuesOf(latin1, readFileSync(latin1));
  assert.equal(issues.length, 1);
  expectIssue(issues, '', 2, 8, /byte 0xE7 at byte offset 21 \(line 2, byte 8 of the line\)/);
});

test('UTF-16 without a BOM, UTF-32 and broken UTF-16 are refused with a reason', () => {
  const noBom = issuesOf('w.csv', Buffer.from('prompt\nx\n', 'utf16le'));
  assert.match(noBom[0]!.message, /NUL character.*UTF-16 without a byte-order mark/);
  const utf32 = issuesOf('w.yaml', Buffer.from([0xff, 0xfe, 0, 0, 0x61, 0, 0, 0]));
  assert.match(utf32[0]!.message, /UTF-32/);
  const odd = issuesOf('o.csv', Buffer.from([0xff, 0xfe, 0x61, 0x00, 0x62]));
  assert.match(odd[0]!.message, /odd number of bytes/);
  const lone = issuesOf('s.csv', Buffer.from([0xff, 0xfe, 0x00, 0xd8, 0x61, 0x00]));
  assert.match(lone[0]!.message, /not valid UTF-16LE/);
});

test('decodeManifest reports the encoding it read', () => {
  const r = decodeManifest('x.csv', utf16be('a'));
  assert.ok(r.ok);
  assert.deepEqual([r.text, r.encoding, r.bom], ['a', 'utf-16be', true]);
});

test('firstInvalidUtf8 finds the first bad byte: stray continuation, overlong, surrogate, truncated, > U+10FFFF', () => {
  const at = (...bytes: number[]) => firstInvalidUtf8(Uint8Array.from(bytes));
  assert.equal(at(0x61, 0xc3, 0xa9, 0x62), -1);
  assert.equal(at(0x61, 0x80), 1);
  assert.equal(at(0xc0, 0xaf), 0);
  assert.equal(at(0x61, 0xe0, 0x80, 0x80), 1);
  assert.equal(at(0xed, 0xa0, 0x80), 0);
  assert.equal(at(0x61, 0x62, 0xe6, 0x9d), 2);
  assert.equal(at(0xf4, 0x90, 0x80, 0x80), 0);
  assert.equal(at(0xf0, 0x9f, 0x8c, 0x8a), -1);
});
