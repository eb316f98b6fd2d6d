import { once } from 'node:events';
import { open, rename, rm } from 'node:fs/promises';
import { extname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { EXPORT_FORMATS, exportLines, type ExportFormat } from '../../report/export.js';
import { addRunSelection, openRun, type RunSelectionFlags } from './status.js';

interface ExportFlags extends RunSelectionFlags {
  format?: ExportFormat;
  output?: string;
}

function format(value: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(value)) return value as ExportFormat;
  throw new InvalidArgumentError(`expected one of ${EXPORT_FORMATS.join(', ')}, got '${value}'`);
}

export function exportCommand(): Command {
  return addRunSelection(new Command('export').description('one row per task: labels, state, taskId, file, sha256, the input sent, failure code and message'))
    .option('--format <format>', `${EXPORT_FORMATS.join(' or ')} (default: from the --output extension, else csv)`, format)
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addHelpText('after', `
CSV cells that start with = + - @ get a leading ' so a spreadsheet never runs a prompt as a formula.

Examples:
  $ vidbatch export > tasks.csv
  $ vidbatch export --run nightly-2026-11-25 --format jsonl | jq 'select(.state == "failed")'
  $ vidbatch export -o results.jsonl`)
    .action(async (flags: ExportFlags) => {
      const fmt: ExportFormat = flags.format ?? (flags.output && extname(flags.output).toLowerCase() === '.jsonl' ? 'jsonl' : 'csv');
      const { store, info } = openRun(flags);
      try {
        // Read from the store a row at a time (a 100,000-task run is never held in memory),
        // both passes of a CSV from one snapshot, even while a run adds tasks.
        await store.readSnapshot(async () => {
          const lines = exportLines(() => store.iterateTasks(info.name), fmt);
          if (flags.output) await writeFileWhole(flags.output, lines);
          else await writeOut(process.stdout, lines);
        });
      } finally {
        store.close();
      }
    });
}

/** Lines joined into writes of about 64 KiB. */
function* chunks(lines: Iterable<string>): Generator<string> {
  let buf = '';
  for (const line of lines) {
    buf += line;
    if (buf.length >= 1 << 16) {
      yield buf;
      buf = '';
    }
  }
  if (buf !== '') yield buf;
}

async function writeOut(out: NodeJS.WritableStream, lines: Iterable<string>): Promise<void> {
  for (const chunk of chunks(lines)) if (!out.write(chunk)) await once(out, 'drain');
}

/** To `file.part`, synced, then renamed: `file` is the whole export or what it was before. */
async function writeFileWhole(file: string, lines: Iterable<string>): Promise<void> {
  const part = `${file}.part`;
  const fh = await open(part, 'w');
  try {
    for (const chunk of chunks(lines)) await fh.write(chunk);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(part, { force: true });
    throw e;
  }
  await fh.close();
  await rename(part, file);
}
