import type { Provider, TaskSpec, VideoInput } from '../core/types.js';
import type { TaskState } from '../core/lifecycle.js';

/** Why a task ended in `failed`. */
export type FailReason = 'provider' | 'rejected' | 'expired' | 'download';

/** A task as the store holds it (its spec plus its progress); JSON columns already parsed. */
export interface TaskRow extends TaskSpec {
  run: string;
  seq: number;
  state: TaskState;
  taskId: string | null;
  /** How many POSTs were ever started for this task (the never-pay-twice audit). */
  submits: number;
  submittedAt: number | null;
  resultUrls: string[] | null;
  createTime: number | null;
  completeTime: number | null;
  costTime: number | null;
  expiresAt: number | null;
  file: string | null;
  sha256: string | null;
  bytes: number | null;
  media: Record<string, unknown> | null;
  failReason: FailReason | null;
  failCode: string | null;
  failMsg: string | null;
  updatedAt: number;
}

export interface RawTaskRow {
  run: string;
  key: string;
  seq: number;
  model: string;
  provider: string;
  input_json: string;
  take: number;
  source_file: string;
  source_line: number;
  labels_json: string;
  state: string;
  task_id: string | null;
  submits: number;
  submitted_at: number | null;
  result_urls_json: string | null;
  create_time: number | null;
  complete_time: number | null;
  cost_time: number | null;
  expires_at: number | null;
  file: string | null;
  sha256: string | null;
  bytes: number | null;
  media_json: string | null;
  fail_reason: string | null;
  fail_code: string | null;
  fail_msg: string | null;
  updated_at: number;
}

export function fromRaw(r: RawTaskRow): TaskRow {
  return {
    run: r.run,
    key: r.key,
    seq: r.seq,
    model: r.model,
    provider: r.provider as Provider,
    input: JSON.parse(r.input_json) as VideoInput,
    take: r.take,
    source: { file: r.source_file, line: r.source_line },
    labels: JSON.parse(r.labels_json) as Record<string, string>,
    state: r.state as TaskState,
    taskId: r.task_id,
    submits: r.submits,
    submittedAt: r.submitted_at,
    resultUrls: r.result_urls_json === null ? null : (JSON.parse(r.result_urls_json) as string[]),
    createTime: r.create_time,
    completeTime: r.complete_time,
    costTime: r.cost_time,
    expiresAt: r.expires_at,
    file: r.file,
    sha256: r.sha256,
    bytes: r.bytes,
    media: r.media_json === null ? null : (JSON.parse(r.media_json) as Record<string, unknown>),
    failReason: r.fail_reason as FailReason | null,
    failCode: r.fail_code,
    failMsg: r.fail_msg,
    updatedAt: r.updated_at,
  };
}
