import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { EXPORT_FORMATS, formatExport, type ExportFormat } from '../../report/export.js';
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
      let text: string;
      try {
        text = formatExport(store.listTasks(info.name), fmt);
      } finally {
        store.close();
      }
      if (flags.output) await writeFile(flags.output, text);
      else process.stdout.write(text);
    });
}
