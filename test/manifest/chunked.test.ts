/**
 * Large sheets are read in chunks (SHEET_CHUNK_BYTES; `files.chunkSize` here, lowered to a
 * few bytes): the tasks, their order, the cell values, the problems and their positions,
 * and the manifest's hash must be exactly those of reading the sheet whole — whatever
 * falls on a chunk's edge: a record, a quoted cell over several lines, a CRLF, a
 * character of several bytes.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ManifestError } from '../../src/core/errors.js';
import type { ManifestIssue } from '../../src/core/errors.js';
import { streamManifest } from '../../src/manifest/index.js';
import type { FileSource } from '../../src/manifest/index.js';
import { bufferChunks, plain, readCsvRecords, scanCsv } from '../../src/manifest/csv.js';
import type { CsvOptions, CsvRecord } from '../../src/manifest/csv.js';
import { checkPlainUtf8 } from '../../src/manifest/decode.js';
import { diskFiles } from '../../src/manifest/includes.js';
import type { OpenFile } from '../../src/manifest/includes.js';
import { readSheet } from '../../src/manifest/sheets.js';
import type { SheetOptions } from '../../src/manifest/sheets.js';
import { mulberry32 } from '../../src/sim/prng.js';
import { tempDir } from '../helpers/tmp.js';

/** Seeded: the same cases on every run. */
const rng = mulberry32;

/** Records with their positions read only once every record has been read (their chunks long gone). */
function scanLate(bytes: Buffer, options: CsvOptions, chunkSize?: number) {
  const records: CsvRecord[] = [];
  const failure = scanCsv(chunkSize === undefined ? bytes : bufferChunks(bytes, chunkSize), options, (r) => records.push(r));
  return {
    records: records.map((r) => ({ cells: r.cells, quoted: r.quoted, start: plain(r.start), cellPos: r.cellPos?.map(plain) })),
    failure: failure && { pos: plain(failure.pos), message: failure.message },
  };
}

const PIECES = ['a', 'b', 'é', '😀', '字', ',', ',', '"', '"', '""', '\n', '\r\n', '\r', ' ', '#', ';', '\t', 'x y'];

test('CSV in chunks of 1 to 9 bytes, 13, 32 and 64: the same records, cells, positions and failures as whole (random sheets)', () => {
  const rand = rng(7);
  const optionSets: CsvOptions[] = [{}, { comment: '#' }, { delimiter: ';' }, { delimiter: '\t', comment: '#' }];
  let failures = 0;
  for (let n = 0; n < 400; n++) {
    let text = '';
    const len = 1 + Math.floor(rand() * 40);
    for (let k = 0; k < len; k++) text += PIECES[Math.floor(rand() * PIECES.length)];
    // Some well-formed quoted cells over several lines, too.
    if (n % 3 === 0) text = `h1,h2\n"multi\r\nline ${text.replaceAll('"', '""')}",é\n${text}`;
    const bytes = Buffer.from(text, 'utf8');
    for (const options of optionSets) {
      const whole = scanLate(bytes, options);
      if (whole.failure) failures++;
      for (const size of [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 32, 64]) {
        assert.deepEqual(scanLate(bytes, options, size), whole, `${JSON.stringify(text)} ${JSON.stringify(options)} in chunks of ${size}`);
      }
    }
  }
  assert.ok(failures > 100, `malformed sheets among the cases: ${failures}`);
});

test('CSV in chunks: a record and a multi-line quoted cell across a chunk edge, CRLF and a 4-byte character split', () => {
  const text = 'prompt,n\r\n"first, quoted",1\r\n"two\r\nlines 😀 here",2\r\nplain é row,3\r\n"end ""q""",4';
  const bytes = Buffer.from(text, 'utf8');
  const whole = readCsvRecords(text);
  assert.equal(whole.records.length, 5);
  assert.deepEqual(whole.records[2]!.cells, ['two\r\nlines 😀 here', '2']);
  // Edges everywhere: in particular between \r and \n, inside 😀 (4 bytes), inside é (2).
  const crlf = bytes.indexOf('\r\n');
  const emoji = bytes.indexOf('😀');
  for (let size = 1; size <= bytes.length + 1; size++) {
    assert.deepEqual(readCsvRecords(text, {}, size), whole, `chunks of ${size}`);
  }
  assert.ok(crlf > 0 && emoji > 0);
});

test('CSV in chunks: a record longer than many chunks is read once (the window grows by doubling)', () => {
  const long = 'x'.repeat(100_000);
  const text = `prompt\n"${long}\n${long}"\nshort\n`;
  let reads = 0;
  const chunks = bufferChunks(Buffer.from(text), 16);
  const counted = { chunkSize: 16, read: (b: Buffer, o: number, l: number) => (reads++, chunks.read(b, o, l)) };
  const records: string[][] = [];
  assert.equal(scanCsv(counted, {}, (r) => records.push(r.cells)), undefined);
  assert.deepEqual(records, [['prompt'], [`${long}\n${long}`], ['short']]);
  assert.ok(reads < 100, `${reads} reads`);
});

test('JSONL and TXT in chunks: the same records and positions as whole', () => {
  const rand = rng(11);
  const pieces = ['{"prompt": "a é"}', '{"prompt":"😀 b", "n": 1}', '{bad', '[1]', '  ', '\n', '\r\n', '\r', 'x', '"', '字'];
  const read = (format: 'jsonl' | 'txt', bytes: Buffer, chunkSize?: number) => {
    const out: unknown[] = [];
    const o: SheetOptions = { format, rowsPath: 'rows' };
    const input = chunkSize === undefined ? bytes : bufferChunks(bytes, chunkSize);
    readSheet(input, () => bytes.toString('utf8'), o, {
      record: (r) => out.push({ index: r.index, start: r.start, cells: [...r.cells] }),
      problem: (pos, field, message) => out.push({ pos, field, message }),
    });
    return out;
  };
  for (let n = 0; n < 300; n++) {
    let text = '';
    const len = Math.floor(rand() * 12);
    for (let k = 0; k < len; k++) text += pieces[Math.floor(rand() * pieces.length)];
    const bytes = Buffer.from(text, 'utf8');
    for (const format of ['jsonl', 'txt'] as const) {
      const whole = read(format, bytes);
      for (const size of [1, 2, 3, 5, 8, 64]) assert.deepEqual(read(format, bytes, size), whole, `${format} ${JSON.stringify(text)} in chunks of ${size}`);
    }
  }
});

test('the UTF-8 check in pieces agrees with decodeSheet: BOM, UTF-16, NUL, split and broken characters', () => {
  const cases: [string, Buffer, { start: number; end: number } | undefined][] = [
    ['plain', Buffer.from('a,b\né,😀\n'), { start: 0, end: 12 }],
    ['BOM', Buffer.from('\ufeffa,é\n'), { start: 3, end: 8 }],
    ['UTF-16 LE', Buffer.from([0xff, 0xfe, 0x61, 0x00]), undefined],
    ['UTF-16 BE', Buffer.from([0xfe, 0xff, 0x00, 0x61]), undefined],
    ['NUL', Buffer.from('a,b\n\u0000\n'), undefined],
    ['Latin-1', Buffer.from([0x61, 0x2c, 0xe9, 0x0a]), undefined],
    ['cut short', Buffer.from([0x61, 0xf0, 0x9f, 0x98]), undefined],
    ['overlong', Buffer.from([0x61, 0xc0, 0xaf, 0x0a]), undefined],
    ['surrogate', Buffer.from([0x61, 0xed, 0xa0, 0x80]), undefined],
    ['lone continuation', Buffer.from([0x61, 0x80, 0x62]), undefined],
  ];
  for (const [name, bytes, expected] of cases) {
    for (const size of [1, 2, 3, 4, 5, 7, 100]) {
      const seen: Buffer[] = [];
      const chunks = bufferChunks(bytes, size);
      const got = checkPlainUtf8((b, o, l) => chunks.read(b, o, l), size, (b) => seen.push(Buffer.from(b)));
      assert.deepEqual(got, expected, `${name} in pieces of ${size}`);
      if (expected) assert.deepEqual(Buffer.concat(seen), bytes, `${name}: every byte hashed once`);
    }
  }
});

// --- End to end: a manifest and its sheet on disk, read whole and in chunks. ---

type Outcome = { tasks: unknown[]; hash: string; count: number } | { issues: readonly ManifestIssue[] };

/** Reads whole (no `open`), or in chunks of `chunkSize` bytes, noting the largest read. */
function run(file: string, chunkSize?: number, stats?: { opened: number; maxRead: number }, tweak?: (f: OpenFile) => OpenFile): Outcome {
  const files: FileSource =
    chunkSize === undefined
      ? { read: diskFiles.read, list: diskFiles.list }
      : {
          ...diskFiles,
          chunkSize,
          open: (p) => {
            const f = diskFiles.open!(p);
            if (!f || !stats) return f;
            stats.opened++;
            const counted: OpenFile = {
              size: f.size,
              read: (b, o, l, at) => ((stats.maxRead = Math.max(stats.maxRead, l)), f.read(b, o, l, at)),
              unchanged: () => f.unchanged(),
              close: () => f.close(),
            };
            return tweak ? tweak(counted) : counted;
          },
        };
  const tasks: unknown[] = [];
  try {
    const s = streamManifest(file, readFileSync(file), (t) => tasks.push(t), { files });
    return { tasks, hash: s.hash, count: s.count };
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    return { issues: e.issues };
  }
}

function sameInChunks(t: { after: (fn: () => void) => void }, files: Record<string, string | Buffer>, sizes: number[], main = 'm.yaml'): Outcome {
  const dir = tempDir(t);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  const file = path.join(dir, main);
  const whole = run(file);
  for (const size of sizes) {
    const stats = { opened: 0, maxRead: 0 };
    assert.deepEqual(run(file, size, stats), whole, `in chunks of ${size}`);
    assert.ok(stats.opened > 0, 'the sheet was opened to be read in chunks');
  }
  return whole;
}

const YAML = 'vars:\n  duration: [5, 10]\nsheets:\n  - file: s.csv\n    negative_prompt: blurry\n';

test('a sheet larger than a chunk: the same tasks, in the same order, and the same hash', (t) => {
  const rows = ['prompt,scene,cfg_scale'];
  for (let i = 0; i < 60; i++) {
    if (i % 7 === 3) rows.push(`"Shot ${i}: two\r\nlines, 😀 and é",s${i % 4},0.${i % 10}`);
    else if (i % 11 === 5) rows.push(`,,`); // blank: skipped
    else rows.push(`"Shot ${i}, ""quoted"" 字",s${i % 4},`);
  }
  const sheet = '\ufeff' + rows.join('\r\n') + '\r\n';
  const whole = sameInChunks(t, { 'm.yaml': YAML, 's.csv': sheet }, [1, 2, 3, 5, 8, 13, 64, 200, 1000]);
  assert.ok('tasks' in whole && whole.tasks.length > 90, JSON.stringify(whole).slice(0, 300));
});

test('a sheet larger than a chunk: every chunk size puts an edge in a record, a multi-line cell, a CRLF and a 4-byte character', (t) => {
  const sheet = 'prompt,scene\r\n"A first, quoted",one\r\n"Over\r\ntwo lines 😀",two\r\nNo quotes é,three\r\n';
  const sizes = Array.from({ length: Buffer.byteLength(sheet) - 1 }, (_, i) => i + 1);
  const whole = sameInChunks(t, { 'm.yaml': YAML, 's.csv': sheet }, sizes);
  assert.ok('tasks' in whole);
  assert.deepEqual(
    (whole.tasks as { input: { prompt: string }; source: { line: number } }[]).filter((_, i) => i % 2 === 0).map((x) => [x.input.prompt, x.source.line]),
    [
      ['A first, quoted', 2],
      ['Over\r\ntwo lines 😀', 3],
      ['No quotes é', 5],
    ],
  );
});

test('problems in a sheet read in chunks: the same messages at the same line:column (after characters of several bytes)', (t) => {
  const rows = ['prompt,duration,aspect_ratio,scene'];
  for (let i = 0; i < 40; i++) rows.push(`"Shot 😀 ${i}, é",${i % 9 === 4 ? 'seven' : '5'},${i % 13 === 6 ? '4:3' : '16:9'},"a\r\nb"`);
  rows.push('"A {red|blue car",5,16:9,x'); // a template error, pointed inside the cell
  rows.push('a,b'); // too few cells
  const whole = sameInChunks(t, { 'm.yaml': 'sheets:\n  - file: s.csv\n', 's.csv': rows.join('\r\n') + '\n' }, [1, 3, 7, 16, 100]);
  assert.ok('issues' in whole);
  const issues = whole.issues.map((i) => `${i.line}:${i.column} ${i.message.split(' ').slice(0, 2).join(' ')}`);
  // 😀 counts 2 columns (as in VS Code), é one.
  assert.deepEqual(issues, [
    '10:16 expected 5',
    "14:18 expected '16:9',",
    '28:17 expected 5',
    "40:19 expected '16:9',",
    '46:17 expected 5',
    '64:17 expected 5',
    "66:19 expected '16:9',",
    "82:4 '{' is",
    '83:1 the row',
  ]);
});

test('malformed CSV late in a sheet read in chunks: the same error at the same position', (t) => {
  const head = 'prompt,scene\n' + Array.from({ length: 30 }, (_, i) => `"Row ${i} é 😀",s\n`).join('');
  for (const [name, bad] of [
    ['quote in an unquoted value', 'ab "c",d\n'],
    ['text after a closing quote', '"é" x,d\n'],
    ['a quote never closed', '"😀 open,d\nmore\nrows\n'],
  ] as const) {
    const whole = sameInChunks(t, { 'm.yaml': 'sheets:\n  - file: s.csv\n', 's.csv': head + 'ok,row\n' + bad + 'after,row\n' }, [1, 4, 9, 50]);
    assert.ok('issues' in whole, name);
    assert.match(JSON.stringify(whole.issues), /malformed CSV/, name);
  }
});

test('a large sheet that is not plain UTF-8 is read whole, as before: Latin-1 refused where it is; UTF-16 decoded', (t) => {
  const latin1 = Buffer.concat([Buffer.from('prompt\n' + 'fine row\n'.repeat(20)), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])]);
  const refused = sameInChunks(t, { 'm.yaml': 'sheets:\n  - file: s.csv\n', 's.csv': latin1 }, [1, 16, 64]);
  assert.match(JSON.stringify(refused), /not valid UTF-8: byte 0xE9/);
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('prompt\r\n' + Array.from({ length: 20 }, (_, i) => `"café ${i}"\r\n`).join(''), 'utf16le')]);
  const decoded = sameInChunks(t, { 'm.yaml': 'sheets:\n  - file: s.csv\n', 's.csv': utf16 }, [1, 16, 64]);
  assert.ok('tasks' in decoded && decoded.tasks.length === 20);
});

test('JSONL and TXT sheets larger than a chunk: the same tasks and problems', (t) => {
  const jsonl = Array.from({ length: 30 }, (_, i) => (i === 17 ? '{"prompt": "broken' : `{"prompt": "Row ${i} 😀 é", "duration": ${i % 5 === 2 ? 7 : 5}}`)).join('\r\n') + '\r\n';
  const j = sameInChunks(t, { 'm.yaml': 'sheets:\n  - file: s.jsonl\n', 's.jsonl': jsonl }, [1, 2, 5, 33]);
  assert.ok('issues' in j);
  assert.deepEqual(
    j.issues.map((i) => `${i.line}:${i.column}`),
    ['3:38', '8:38', '13:39', '18:19', '23:39', '28:39'],
  );
  const txt = Array.from({ length: 30 }, (_, i) => (i % 6 === 0 ? '' : `Prompt ${i} 字 😀`)).join('\r');
  const x = sameInChunks(t, { 'm.yaml': 'sheets:\n  - file: s.txt\n', 's.txt': txt }, [1, 3, 7, 40]);
  assert.ok('tasks' in x && x.tasks.length === 25);
});

test('a large .json sheet, and a sheet drawn twice (sample:), still work in chunks', (t) => {
  const json = JSON.stringify(Array.from({ length: 20 }, (_, i) => ({ prompt: `Json row ${i} é` })));
  sameInChunks(t, { 'm.yaml': 'sheets:\n  - file: s.json\n', 's.json': json }, [1, 16, 100]);
  const csv = 'prompt\n' + Array.from({ length: 50 }, (_, i) => `Row ${i} 😀\n`).join('');
  const sampled = sameInChunks(t, { 'm.yaml': 'sample: 7\nseed: 3\nsheets:\n  - file: s.csv\n', 's.csv': csv }, [1, 16, 100]);
  assert.ok('tasks' in sampled && sampled.tasks.length === 7);
});

test('a byte-order mark after the first is text, in chunks as whole (CSV, JSON)', (t) => {
  const bom = '\ufeff';
  const csv = sameInChunks(t, { 'm.yaml': 'sheets:\n  - file: s.csv\n', 's.csv': `${bom}${bom}prompt\n` + 'A row\n'.repeat(20) }, [1, 5, 64]);
  assert.ok('tasks' in csv && csv.tasks.length === 1); // the header is trimmed, and trim() takes U+FEFF too
  const json = JSON.stringify(Array.from({ length: 20 }, (_, i) => ({ prompt: `Row ${i}` })));
  const j = sameInChunks(t, { 'm.yaml': 'sheets:\n  - file: s.json\n', 's.json': `${bom}${bom}${json}` }, [1, 5, 64]);
  assert.ok('tasks' in j && j.tasks.length === 20);
});

test('reads are a chunk at a time, not the whole sheet', (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'm.yaml'), YAML);
  writeFileSync(path.join(dir, 's.csv'), 'prompt\n' + Array.from({ length: 2000 }, (_, i) => `"Row ${i}, long enough to matter"\n`).join(''));
  const stats = { opened: 0, maxRead: 0 };
  const out = run(path.join(dir, 'm.yaml'), 4096, stats);
  assert.ok('tasks' in out && out.tasks.length === 4000);
  assert.equal(stats.opened, 1);
  assert.ok(stats.maxRead <= 4096, `largest read: ${stats.maxRead}`);
});

test('a sheet that changes between the check and the reading is an error, not a silent mix', (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'm.yaml'), YAML);
  writeFileSync(path.join(dir, 's.csv'), 'prompt\n' + 'a row\n'.repeat(100));
  const out = run(path.join(dir, 'm.yaml'), 64, { opened: 0, maxRead: 0 }, (f) => ({ ...f, unchanged: () => false }));
  assert.ok('issues' in out);
  assert.deepEqual(
    out.issues.map((i) => [i.line, i.message]),
    [[0, 'the file changed while it was being read; read it again once it is saved']],
  );
});
