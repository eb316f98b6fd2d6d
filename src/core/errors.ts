/**
 * One error hierarchy for the whole tool. Decisions are made on `code` and on the
 * data fields (status, retryAfterMs, sent), never on message text.
 */

export const ERROR_CODES = {
  /** The manifest cannot be read or is invalid; `issues` lists every problem. */
  MANIFEST_INVALID: 'E_MANIFEST_INVALID',
  /** Wrong command-line use or configuration (missing key, bad option). */
  USAGE: 'E_USAGE',
  /** 400 from the provider: the request was refused for its parameters. */
  INVALID_INPUT: 'E_INVALID_INPUT',
  /** 400 "Insufficient credits" or 402. */
  CREDITS: 'E_CREDITS',
  /** 401: invalid or missing API key. */
  AUTH: 'E_AUTH',
  /** 429: request or concurrency limit exceeded. */
  RATE_LIMITED: 'E_RATE_LIMITED',
  /** 5xx from the provider or a gateway in front of it. */
  SERVER: 'E_SERVER',
  /** The connection failed, was reset, or timed out. */
  NETWORK: 'E_NETWORK',
  /** The provider answered, but not in the documented shape. */
  PROTOCOL: 'E_PROTOCOL',
  /** A result download failed (HTTP status, size mismatch, cut off). */
  DOWNLOAD: 'E_DOWNLOAD',
  /** A downloaded file is not a complete, valid MP4. */
  INVALID_MEDIA: 'E_INVALID_MEDIA',
  /** A lifecycle transition was refused: the row was not in the expected state. */
  ILLEGAL_TRANSITION: 'E_ILLEGAL_TRANSITION',
  /** Another process holds the run. */
  RUN_LOCKED: 'E_RUN_LOCKED',
  /** The database was written by a newer vidbatch or is not ours. */
  STORE_SCHEMA: 'E_STORE_SCHEMA',
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class VidbatchError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem in a manifest, positioned for the user's editor. */
export interface ManifestIssue {
  file: string;
  /** 1-based; 0 when the problem concerns the whole file. */
  line: number;
  /** 1-based; 0 when unknown. */
  column: number;
  /** Dotted path of the field, e.g. `tasks[3].input.duration`, or '' for the file. */
  field: string;
  message: string;
}

export function formatIssue(issue: ManifestIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}${issue.column > 0 ? `:${issue.column}` : ''}` : issue.file;
  return issue.field ? `${where}: ${issue.field}: ${issue.message}` : `${where}: ${issue.message}`;
}

export class ManifestError extends VidbatchError {
  readonly issues: readonly ManifestIssue[];
  constructor(issues: readonly ManifestIssue[]) {
    const n = issues.length;
    super(
      ERROR_CODES.MANIFEST_INVALID,
      `${n} problem${n === 1 ? '' : 's'} in the manifest; nothing was sent:\n` + issues.map((i) => '  ' + formatIssue(i)).join('\n'),
    );
    this.issues = issues;
  }
}

export class UsageError extends VidbatchError {
  constructor(message: string) {
    super(ERROR_CODES.USAGE, message);
  }
}

/** What an API call can fail with. `sent` tells whether the request body may have reached the provider. */
export class ApiError extends VidbatchError {
  /** HTTP status, or 0 when no response was received. */
  readonly status: number;
  /** The provider's `message` from its JSON envelope, when there was one. */
  readonly providerMessage: string | undefined;
  /** True when the response carried the API's own `{code, message}` envelope. */
  readonly envelope: boolean;
  /** For 429: how long the provider asked us to wait (Retry-After), if it said. */
  readonly retryAfterMs: number | undefined;
  /**
   * For network errors: false when the request surely never left (connection refused,
   * DNS failure), true when it may have been received (reset or timeout after sending).
   */
  readonly sent: boolean;
  constructor(
    code: ErrorCode,
    message: string,
    fields: { status?: number; providerMessage?: string; envelope?: boolean; retryAfterMs?: number; sent?: boolean; cause?: unknown },
  ) {
    super(code, message, { cause: fields.cause });
    this.status = fields.status ?? 0;
    this.providerMessage = fields.providerMessage;
    this.envelope = fields.envelope ?? false;
    this.retryAfterMs = fields.retryAfterMs;
    this.sent = fields.sent ?? true;
  }
}

export class DownloadError extends VidbatchError {
  readonly status: number;
  readonly url: string;
  constructor(code: typeof ERROR_CODES.DOWNLOAD | typeof ERROR_CODES.INVALID_MEDIA, message: string, fields: { url: string; status?: number; cause?: unknown }) {
    super(code, message, { cause: fields.cause });
    this.url = fields.url;
    this.status = fields.status ?? 0;
  }
}

export class StoreError extends VidbatchError {}

export function isVidbatchError(e: unknown): e is VidbatchError {
  return e instanceof VidbatchError;
}
