/**
 * The input schema: one zod schema for the `input` object exactly as it is sent, used to
 * validate every task and, later, exported as JSON Schema for editors. Rules that tie two
 * fields together (image_urls only for image-to-video, …) cannot live in a JSON Schema
 * and are checked in validate.ts.
 *
 * Every schema carries one error function that writes the whole message, so the user
 * reads "expected 5 or 10 (seconds), got 7", never zod's generic wording.
 */
import * as z from 'zod';
import { ASPECT_RATIOS, DURATIONS, MODES, PROVIDERS } from '../core/types.js';
import type { VideoInput } from '../core/types.js';
import { describe } from './raw.js';
import { suggestionSuffix } from './suggest.js';

/** Input fields in the order they are written to the request (and shown in docs). */
export const INPUT_FIELDS = ['mode', 'prompt', 'duration', 'aspect_ratio', 'image_urls', 'negative_prompt', 'cfg_scale'] as const;
export type InputField = (typeof INPUT_FIELDS)[number];

/** What a task (YAML list item, CSV column) may carry besides its input. */
export const TASK_SETTINGS = ['takes', 'model', 'provider'] as const;
export const TASK_FIELDS: readonly string[] = [...INPUT_FIELDS, ...TASK_SETTINGS];

export const PROMPT_MAX = 2500;
export const DEFAULT_DURATION = 5;
export const DEFAULT_ASPECT_RATIO = '16:9';

type Issue = z.core.$ZodRawIssue;

const quoteList = (values: readonly (string | number)[]): string => {
  const shown = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  return shown.length <= 1 ? shown.join('') : `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}`;
};

const got = (iss: Issue): string => (iss.input === undefined ? 'nothing' : describe(iss.input));

function enumError(values: readonly string[], extraHint?: (input: unknown) => string) {
  return (iss: Issue): string => {
    const hint = typeof iss.input === 'string' ? suggestionSuffix(iss.input, values) : (extraHint?.(iss.input) ?? '');
    return `expected ${quoteList(values)}, got ${got(iss)}${hint}`;
  };
}

function textSchema(what: string) {
  return z
    .string({
      error: (iss) => {
        if (iss.input === undefined) return `${what} is required`;
        const quote = typeof iss.input === 'number' || typeof iss.input === 'boolean' ? ' (write it in quotes to make it text)' : '';
        return `expected text, got ${got(iss)}${quote}`;
      },
    })
    .min(1, { error: `${what} is empty` })
    .max(PROMPT_MAX, { error: (iss) => `${what} is ${String(iss.input).length} characters long; the limit is ${PROMPT_MAX}` })
    // Kept byte-for-byte, but text with nothing to say is a mistake worth stopping for.
    .refine((s) => s === '' || s.trim() !== '', { error: `${what} is only whitespace` });
}

// z.url() checks with the WHATWG URL parser and returns the value trimmed: surrounding
// spaces (common in hand-edited sheets) are dropped rather than refused.
const imageUrl = z.url({
  protocol: /^https?$/,
  error: (iss) => `expected an http(s) URL of an image, got ${got(iss)}`,
});

const cfgError = (iss: Issue): string => `expected a number from 0 to 1, got ${got(iss)}`;

export const inputShape = {
  mode: z.enum(MODES, { error: enumError(MODES) }),
  prompt: textSchema('the prompt'),
  duration: z.literal(DURATIONS, { error: (iss) => `expected ${quoteList(DURATIONS)} (seconds), got ${got(iss)}` }).optional(),
  aspect_ratio: z
    .enum(ASPECT_RATIOS, {
      // YAML 1.1 reads an unquoted 16:9 as the sexagesimal number 969.
      error: enumError(ASPECT_RATIOS, (input) => (typeof input === 'number' ? "; write it in quotes, e.g. '16:9'" : '')),
    })
    .optional(),
  image_urls: z
    .array(imageUrl, { error: (iss) => `expected a list of 1 or 2 image URLs, got ${got(iss)}` })
    .min(1, { error: 'lists no image; give 1 or 2 image URLs' })
    .max(2, { error: (iss) => `lists ${Array.isArray(iss.input) ? iss.input.length : 'too many'} images; at most 2 (start frame, end frame)` })
    .optional(),
  negative_prompt: textSchema('the negative prompt').optional(),
  cfg_scale: z
    .number({ error: cfgError })
    .min(0, { error: cfgError })
    .max(1, { error: cfgError })
    .optional(),
};

/** The `input` of a generateTask request. Strict: an unknown key is an error, not dropped. */
export const videoInputSchema = z.strictObject(inputShape);

// Compile-time check that the schema and the core contract agree.
const _agrees: (x: z.infer<typeof videoInputSchema>) => VideoInput = (x) => x;
void _agrees;

const takesError = (iss: Issue): string => `expected a whole number from 1 up, got ${got(iss)}`;
export const takesSchema = z.int({ error: takesError }).min(1, { error: takesError });

export const providerSchema = z.enum(PROVIDERS, { error: enumError(PROVIDERS) });

/** Model names become a URL path segment (/generateTask/{model}): nothing that could escape it. */
export const modelSchema = z
  .string({ error: (iss) => `expected a model name, got ${got(iss)}` })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, { error: (iss) => `expected a model name (letters, digits, '.', '_', '-'), got ${got(iss)}` });

/** The run name becomes a folder under output/: a safe file name, nothing more. */
export const nameSchema = z
  .string({ error: (iss) => `expected a run name, got ${got(iss)}` })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    error: (iss) => `expected a run name of letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit), got ${got(iss)}`,
  });
