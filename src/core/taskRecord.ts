/**
 * A TaskSpec written out flat, its JSON parts already serialized: the form in which a
 * plan travels from the manifest stage (in a worker thread) to the store, so that the
 * thread that writes SQLite does nothing a task but bind and insert.
 *
 * Eight fields a task, in this order: key, model, provider, input JSON, take, source
 * file, source line, labels JSON. A batch crosses threads as one string joined by NUL,
 * which none of the fields can contain (JSON escapes it, keys are hex; the free-text
 * ones are checked). Within a batch, a model, provider or source file equal to the
 * task before's is sent empty (none can be empty): a sheet repeats them task after task,
 * and they were a fifth of the bytes copied between threads.
 */
import type { TaskSpec } from './types.js';

export const TASK_RECORD_FIELDS = 8;

const SEP = '\0';

/** Tasks joined into one string as they come: cheaper than an array joined at the end. */
export class TaskRecordBatch {
  #text = '';
  #size = 0;
  // Model, provider and source file are the same for long runs of tasks: check each once.
  #checked = new Set<string>();
  // The task before's, for sending them once a batch.
  #model = '';
  #provider = '';
  #file = '';

  get size(): number {
    return this.#size;
  }

  /** `inputJson`, `labelsJson`: the input and labels already written as JSON by the manifest stage, if they were. */
  add(t: TaskSpec, inputJson?: string, labelsJson?: string): void {
    const first = this.#size === 0;
    const { model, provider } = t;
    const file = t.source.file;
    const sameModel = !first && model === this.#model;
    const sameProvider = !first && provider === this.#provider;
    const sameFile = !first && file === this.#file;
    if (!sameModel) this.#check((this.#model = model));
    if (!sameProvider) this.#check((this.#provider = provider));
    if (!sameFile) this.#check((this.#file = file));
    this.#text +=
      (first ? '' : SEP) + t.key + SEP + (sameModel ? '' : model) + SEP + (sameProvider ? '' : provider) + SEP + (inputJson ?? JSON.stringify(t.input)) + SEP +
      t.take + SEP + (sameFile ? '' : file) + SEP + t.source.line + SEP + (labelsJson ?? JSON.stringify(t.labels));
    this.#size++;
  }

  /** The batch so far, as one string; the batch starts again empty. */
  take(): string {
    const text = this.#text;
    this.#text = '';
    this.#size = 0;
    return text;
  }

  #check(field: string): void {
    if (this.#checked.has(field)) return;
    if (field === '') throw new TypeError('a task has an empty model, provider or source file');
    if (field.includes(SEP)) throw new TypeError(`a task field contains a NUL character: ${JSON.stringify(field)}`);
    if (this.#checked.size > 64) this.#checked.clear();
    this.#checked.add(field);
  }
}

/** The flat fields of a batch's tasks, TASK_RECORD_FIELDS a task, every field filled in. */
export function splitTaskRecords(joined: string): string[] {
  if (joined === '') return [];
  const r = joined.split(SEP);
  for (let i = TASK_RECORD_FIELDS; i + TASK_RECORD_FIELDS <= r.length; i += TASK_RECORD_FIELDS) {
    if (r[i + MODEL] === '') r[i + MODEL] = r[i + MODEL - TASK_RECORD_FIELDS]!;
    if (r[i + PROVIDER] === '') r[i + PROVIDER] = r[i + PROVIDER - TASK_RECORD_FIELDS]!;
    if (r[i + SOURCE_FILE] === '') r[i + SOURCE_FILE] = r[i + SOURCE_FILE - TASK_RECORD_FIELDS]!;
  }
  return r;
}

const MODEL = 1;
const PROVIDER = 2;
const SOURCE_FILE = 5;
