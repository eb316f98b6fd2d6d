import { Command } from 'commander';
import { writeGallery } from '../../report/gallery.js';
import { addRunSelection, openRun, type RunSelectionFlags } from './status.js';

interface ReportFlags extends RunSelectionFlags {
  x?: string;
  y?: string;
  posters: boolean;
}

export function reportCommand(): Command {
  return addRunSelection(
    new Command('report').description("write the run's gallery, <out>/<run>/index.html: its videos on an X/Y grid of two variation axes, the other labels as filters"),
  )
    .option('--x <dimension>', 'columns: a label of the manifest, or aspect_ratio, duration, take, cfg_scale, mode, negative_prompt, prompt, state (default: the first that varies)')
    .option('--y <dimension>', 'rows, as --x (default: the next that varies)')
    .option('--no-posters', 'do not make poster frames (they need ffmpeg on PATH; without it there are none anyway)')
    .addHelpText('after', `
The page needs nothing but the files beside it: open it from disk (file://) or serve the folder.
Axes and filters can be changed in the page too; the address keeps the view.

Examples:
  $ vidbatch report                                   the most recent run, default axes
  $ vidbatch report --run styles-2026-11-25 --x style --y subject
  $ xdg-open output/styles-2026-11-25/index.html`)
    .action(async (flags: ReportFlags) => {
      const { store, info, dir } = openRun(flags);
      let g;
      try {
        // Read from the store a row at a time, in passes: a 100,000-task run is never held in memory.
        g = await writeGallery(dir, info.name, () => store.iterateTasks(info.name), {
          posters: flags.posters,
          poster: { budgetMs: 120_000 }, // asked for explicitly: make them all (a run's end allows 10 s)
          ...(flags.x !== undefined ? { x: flags.x } : {}),
          ...(flags.y !== undefined ? { y: flags.y } : {}),
        });
      } finally {
        store.close();
      }
      process.stdout.write(`${g.file}\n`);
      process.stderr.write(`gallery of run '${info.name}': ${g.items} task(s), ${g.videos} video(s), ${g.posters} poster frame(s)\n`);
    });
}
