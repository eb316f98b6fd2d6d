/**
 * The documented response shapes, checked rather than cast: a 200 whose body we do not
 * understand must stop the task (E_PROTOCOL), not become `undefined` somewhere later.
 * These functions know nothing of HTTP; they call `fail` with what is wrong.
 */
import { PROVIDER_STATES, type ProviderState, type TaskStatus } from '../core/types.js';

/** Every answer of the API: `{code, message, data}`. */
export interface Envelope {
  code: number;
  message: string;
  data: unknown;
}

/** Called with a short description ("no taskId"); must throw. */
export type Fail = (what: string) => never;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The body as the API's envelope, or undefined when it is not one (a gateway's HTML
 * page, plain text, other JSON). The `envelope` flag on errors comes from this.
 */
export function parseEnvelope(text: string): Envelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const { code, message, data } = parsed;
  if (typeof code !== 'number' || !Number.isFinite(code) || typeof message !== 'string') return undefined;
  return { code, message, data };
}

/** `data` of a successful generateTask: the taskId. */
export function parseSubmitData(data: unknown, fail: Fail): string {
  if (!isRecord(data)) return fail('no data object');
  const { taskId } = data;
  if (typeof taskId !== 'string' || taskId === '') return fail('no taskId');
  return taskId;
}

function isProviderState(v: unknown): v is ProviderState {
  return typeof v === 'string' && (PROVIDER_STATES as readonly string[]).includes(v);
}

/** Absent and null are the same to us; anything else must be a number. */
function optionalNumber(data: Record<string, unknown>, field: string, fail: Fail): number | undefined {
  const v = data[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) return fail(`${field} is not a number`);
  return v;
}

function parseResultUrls(resultJson: unknown, fail: Fail): string[] {
  if (typeof resultJson !== 'string') return fail('state success without a resultJson string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(resultJson);
  } catch {
    return fail('resultJson that is not JSON');
  }
  const urls = isRecord(parsed) ? parsed['resultUrls'] : undefined;
  // An empty list is refused too: a success with nothing to download would only fail later, further from its cause.
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u): u is string => typeof u === 'string' && u !== '')) {
    return fail('resultJson without a non-empty array of string resultUrls');
  }
  return urls;
}

/** `data` of statusTask. `taskId` is the one we asked about; an answer about another task is refused. */
export function parseStatusData(data: unknown, taskId: string, fail: Fail): TaskStatus {
  if (!isRecord(data)) return fail('no data object');
  if (data['taskId'] !== undefined && data['taskId'] !== taskId) return fail(`a different taskId (${String(data['taskId'])})`);
  const state = data['state'];
  if (!isProviderState(state)) return fail(`state ${JSON.stringify(state) ?? 'undefined'} is not one of ${PROVIDER_STATES.join(', ')}`);

  const status: TaskStatus = { taskId, state };
  if (state === 'success') status.resultUrls = parseResultUrls(data['resultJson'], fail);
  // failCode stays an open string: apixo's pages list different codes, and a number is kept as its text.
  const failCode = data['failCode'];
  if (typeof failCode === 'string' || typeof failCode === 'number') status.failCode = String(failCode);
  const failMsg = data['failMsg'];
  if (typeof failMsg === 'string') status.failMsg = failMsg;
  const createTime = optionalNumber(data, 'createTime', fail);
  if (createTime !== undefined) status.createTime = createTime;
  const completeTime = optionalNumber(data, 'completeTime', fail);
  if (completeTime !== undefined) status.completeTime = completeTime;
  const costTime = optionalNumber(data, 'costTime', fail);
  if (costTime !== undefined) status.costTime = costTime;
  return status;
}
