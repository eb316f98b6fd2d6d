/**
 * The YAML manifest as a document: one zod schema, built from the same field schemas the
 * validator applies (schema.ts), that says which keys exist where and what each holds.
 *
 * The reader (yaml.ts) takes its key lists from these shapes and checks each setting with
 * the schema found there, so the validator and the JSON Schema for editors
 * (`manifestJsonSchema`, committed as manifests/vidbatch-manifest.schema.json) cannot drift
 * apart. Input fields are checked again after templates are rendered, against the exact
 * request schema (`videoInputSchema`): a template may be anything until it is rendered.
 */
import * as z from 'zod';
import { inputShape, modelSchema, nameSchema, providerSchema, takesSchema, type InputField } from './schema.js';
import { describe } from './raw.js';

const got = (iss: { input?: unknown }): string => (iss.input === undefined ? 'nothing' : describe(iss.input));
const wholeFrom1 = (what: string) => {
  const error = (iss: { input?: unknown }): string => `expected ${what} (a whole number from 1 up), got ${got(iss)}`;
  return z.int({ error }).min(1, { error });
};

export const DEFAULT_MAX_TASKS = 10_000;
export const DEFAULT_WILDCARDS = 'wildcards';
export const SHEET_FORMATS = ['csv', 'tsv', 'jsonl', 'json', 'txt'] as const;
export type SheetFormat = (typeof SHEET_FORMATS)[number];

/** Input fields as written in a manifest: the request's own schemas, with template notes for editors. */
const fieldShape = {
  mode: inputShape.mode.optional().describe('text-to-video or image-to-video; default: image-to-video when image_urls are given'),
  prompt: z.string().optional().describe('What the video shows, 1–2500 characters. Template: {{var}}, {a|b} alternatives, __wildcard__; \\{ escapes'),
  duration: inputShape.duration.describe('Seconds: 5 (default) or 10'),
  aspect_ratio: inputShape.aspect_ratio.describe('16:9 (default for text-to-video), 9:16 or 1:1; quote it in YAML'),
  image_urls: z.array(z.string()).min(1).max(2).optional().describe('1 or 2 http(s) image URLs (start frame, end frame); {{var}} allowed'),
  negative_prompt: z.string().optional().describe('What to avoid, 1–2500 characters; a template like prompt'),
  cfg_scale: inputShape.cfg_scale.describe('A number from 0 to 1'),
} satisfies Record<InputField, z.ZodType>;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** An axis: a list of values, or label → value (the label names the variation; the value is used). */
export const axisSchema = z
  .union([z.array(z.union([scalar, z.array(z.string())])).min(1), z.record(z.string(), z.union([scalar, z.array(z.string())]))])
  .describe('Values of this axis; named like an input field (duration, cfg_scale, aspect_ratio…) it sets that field');
export const varsSchema = z.record(z.string(), axisSchema).describe('Named axes: every combination of their values is a task (the cartesian product)');
export const labelsSchema = z.record(z.string(), scalar).describe('Extra labels recorded with every task of this entry');
const seedSchema = z.union([z.int(), z.string()]).describe('Seed of `sample`; default 0. Same seed, same subset');
const sampleSchema = wholeFrom1('a sample size').describe('Draw this many variations at random (reproducibly, see seed) instead of all of them');

const entryShape = {
  ...fieldShape,
  takes: takesSchema.optional().describe('How many videos of each variation (default 1)'),
  model: modelSchema.optional(),
  provider: providerSchema.optional(),
  vars: varsSchema.optional(),
  labels: labelsSchema.optional(),
  sample: sampleSchema.optional(),
  seed: seedSchema.optional(),
};

export const taskSchema = z.strictObject(entryShape).describe('One task; its vars and alternatives may make it many');

export const columnsSchema = z
  .record(z.string(), z.union([z.string(), z.null()]))
  .describe('Sheet column → input field (prompt, duration…), or another name (a label), or null (dropped). Unlisted columns are kept as labels');

export const sheetSchema = z
  .strictObject({
    file: z.string().min(1).describe('The sheet, relative to this manifest: .csv, .tsv, .jsonl, .json (a list of objects) or .txt (one prompt a line)'),
    format: z.enum(SHEET_FORMATS).optional().describe('Default: from the file extension'),
    columns: columnsSchema.optional(),
    delimiter: z.string().length(1).optional().describe('CSV: the character between cells (default , ; \\t for .tsv)'),
    comment: z.string().length(1).optional().describe('CSV: lines starting with this character are skipped'),
    header: z.boolean().optional().describe('CSV: false when the first row is data; columns are then named 1, 2, 3…'),
    literal: z.boolean().optional().describe('Take the cells as written: no {a|b}, __wildcard__ or {{var}} in them'),
    ...entryShape,
  })
  .describe('Rows pulled from a file; fields written here apply to every row and win over its cells');

export const documentSchema = z
  .strictObject({
    name: nameSchema.optional().describe('Run name (default: the file name)'),
    model: modelSchema.optional().describe('Default kling-2-5-turbo-pro'),
    provider: providerSchema.optional().describe('auto (default), value or official'),
    takes: takesSchema.optional().describe('How many videos of each variation (default 1)'),
    max_tasks: wholeFrom1('a task cap').optional().describe(`Refuse the manifest when it expands to more tasks than this (default ${DEFAULT_MAX_TASKS})`),
    sample: sampleSchema.optional(),
    seed: seedSchema.optional(),
    wildcards: z.string().min(1).optional().describe(`Folder of __name__ wildcard files (name.txt, one option a line), relative to this manifest (default ${DEFAULT_WILDCARDS})`),
    defaults: z.strictObject(fieldShape).optional().describe('Input fields under every task and sheet row; their own values win'),
    vars: varsSchema.optional(),
    tasks: z.array(taskSchema).optional(),
    sheets: z.array(sheetSchema).optional(),
  })
  .meta({ title: 'vidbatch manifest', description: 'Prompt sheet for vidbatch: tasks and sheets, expanded over vars, validated before anything is sent' });

const keys = (shape: object): readonly string[] => Object.keys(shape);
export const TOP_LEVEL_KEYS = keys(documentSchema.shape);
export const TASK_KEYS = keys(taskSchema.shape);
export const SHEET_KEYS = keys(sheetSchema.shape);
/** Keys that describe where a sheet's rows come from, as opposed to task fields applied to each row. */
export const SHEET_SOURCE_KEYS = SHEET_KEYS.filter((k) => !TASK_KEYS.includes(k));

/** The JSON Schema that editors use (yaml-language-server), generated from `documentSchema`. */
export function manifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(documentSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
}
