/**
 * The shapes every stage agrees on. A stage may add its own types beside its code;
 * only what crosses a stage boundary lives here.
 */

export const DEFAULT_MODEL = 'kling-2-5-turbo-pro';

export const MODES = ['text-to-video', 'image-to-video'] as const;
export type Mode = (typeof MODES)[number];

export const PROVIDERS = ['auto', 'value', 'official'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const DURATIONS = [5, 10] as const;
export type Duration = (typeof DURATIONS)[number];

export const ASPECT_RATIOS = ['16:9', '9:16', '1:1'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

export const REQUEST_TYPES = ['async', 'callback'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/** The `input` object of a generateTask request, exactly as it is sent. */
export interface VideoInput {
  mode: Mode;
  prompt: string;
  duration?: Duration;
  aspect_ratio?: AspectRatio;
  image_urls?: string[];
  negative_prompt?: string;
  cfg_scale?: number;
}

/** The whole body of POST /api/v1/generateTask/{model}. */
export interface GenerateRequest {
  request_type: RequestType;
  callback_url?: string;
  provider: Provider;
  input: VideoInput;
}

/** Where a task came from, for error messages and provenance. */
export interface TaskSource {
  file: string;
  /** 1-based line of the record (YAML node start, CSV record start). */
  line: number;
}

/**
 * One video to make: the unit the manifest stage produces and the store keeps.
 * `key` is a deterministic hash of (model, provider, input, take): the same row
 * read twice gives the same key, which is how a re-run recognises done work.
 */
export interface TaskSpec {
  key: string;
  model: string;
  provider: Provider;
  input: VideoInput;
  /** 1-based repeat index; two takes of the same input are two paid videos. */
  take: number;
  source: TaskSource;
  /** Variation values and extra sheet columns, for grouping in reports. */
  labels: Record<string, string>;
}

/** Provider-side task state, as the status endpoint reports it. */
export const PROVIDER_STATES = ['pending', 'processing', 'success', 'failed'] as const;
export type ProviderState = (typeof PROVIDER_STATES)[number];

/** The parsed answer of GET /api/v1/statusTask/{model}. */
export interface TaskStatus {
  taskId: string;
  state: ProviderState;
  /** Parsed from `resultJson` when state is success. */
  resultUrls?: string[];
  /** Open string: apixo's pages list different codes. */
  failCode?: string;
  failMsg?: string;
  createTime?: number;
  completeTime?: number;
  costTime?: number;
}
