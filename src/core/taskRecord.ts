/**
 * A TaskSpec written out flat, its JSON parts already serialized: the form in which a
 * plan travels from the manifest stage (in a worker thread) to the store, so that the
 * thread that writes SQLite does nothing a task but bind and insert.
 *
 * Eight fields a task, in this order: key, model, provider, input JSON, take, source
 * file, source line, labels JSON. A batch crosses threads as one string joined by NUL,
 * which none of the fields can contain (JSON escapes it, keys are hex; the free-text
 * ones are checked).
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

  get size(): number {
    return this.#size;
  }

  add(t: TaskSpec): void {
    this.#check(t.model);
    this.#check(t.provider);
    this.#check(t.source.file);
    this.#text +=
      (this.#size === 0 ? '' : SEP) + t.key + SEP + t.model + SEP + t.provider + SEP + JSON.stringify(t.input) + SEP +
      t.take + SEP + t.source.file + SEP + t.source.line + SEP + JSON.stringify(t.labels);
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
    if (field.includes(SEP)) throw new TypeError(`a task field contains a NUL character: ${JSON.stringify(field)}`);
    if (this.#checked.size > 64) this.#checked.clear();
    this.#checked.add(field);
  }
}

/** The flat fields of a batch's tasks, TASK_RECORD_FIELDS a task. */
export function splitTaskRecords(joined: string): string[] {
  return joined === '' ? [] : joined.split(SEP);
}
