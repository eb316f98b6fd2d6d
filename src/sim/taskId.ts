/**
 * Self-describing task ids. A simulator keeps its tasks in memory, so a restarted one
 * (a `vidbatch run --simulate` killed and run again, a `vidbatch sim` restarted during a
 * rehearsal) would answer 404 for every task the client is still waiting for, and the
 * client would rightly refuse to resubmit them. Instead, every id carries everything the
 * simulator needs to answer for the task — when it was created, when it completes, the
 * video's length and aspect ratio, its planned failure, a tag of the API key — sealed with
 * an HMAC, so any simulator holding the same secret answers status and serves the result
 * for it. An id that does not verify (typo, another secret) is unknown: 404, as before.
 *
 * Layout (29 bytes, hex after `task_`): nonce 4 | createTime 6 | completeTime 6 | flags 1 |
 * keyTag 4 | mac 8. The random nonce comes first: ids never repeat across restarts, and the
 * result video's hue (read from the first hex digits) still varies from task to task.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ASPECT_RATIOS, type AspectRatio, type Duration } from '../core/types.js';
import { FAIL_REASONS, type FailReason } from './failures.js';

/**
 * The secret every simulator uses unless told otherwise: a rehearsal's ids stay valid
 * across simulator restarts. It seals nothing of value (the simulator is not a billing
 * system); it only makes forged or mistyped ids unknown.
 */
export const DEFAULT_ID_SECRET = 'vidbatch-apixo-simulator/1';

const PREFIX = 'task_';
const VERSION = 1;
const BODY_BYTES = 21;
const MAC_BYTES = 8;
const ID_LENGTH = PREFIX.length + 2 * (BODY_BYTES + MAC_BYTES);
const FAILURES: readonly (FailReason | undefined)[] = [undefined, FAIL_REASONS.INVALID_IMAGE_URL, FAIL_REASONS.CONTENT_VIOLATION];

/** What an id says about its task. */
export interface TaskFacts {
  createTime: number;
  completeTime: number;
  durationSec: Duration;
  aspectRatio: AspectRatio;
  failure: FailReason | undefined;
  /** 8 hex digits of HMAC(secret, apiKey): enough to answer another key's polls with 404. */
  keyTag: string;
}

function mac(secret: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest().subarray(0, MAC_BYTES);
}

export function keyTagOf(apiKey: string, secret: string): string {
  return createHmac('sha256', secret).update('key\0' + apiKey).digest('hex').slice(0, 8);
}

export function mintTaskId(facts: TaskFacts, secret: string, nonce: Buffer = randomBytes(4)): string {
  const failure = FAILURES.findIndex((f) => f?.failCode === facts.failure?.failCode);
  const aspect = ASPECT_RATIOS.indexOf(facts.aspectRatio);
  if (failure < 0 || aspect < 0 || nonce.length !== 4 || !/^[0-9a-f]{8}$/.test(facts.keyTag)) {
    throw new Error('mintTaskId: facts out of range');
  }
  const body = Buffer.alloc(BODY_BYTES);
  nonce.copy(body, 0);
  body.writeUIntBE(facts.createTime, 4, 6);
  body.writeUIntBE(facts.completeTime, 10, 6);
  body[16] = (VERSION << 5) | (failure << 3) | (aspect << 1) | (facts.durationSec === 10 ? 1 : 0);
  body.write(facts.keyTag, 17, 'hex');
  return PREFIX + body.toString('hex') + mac(secret, body).toString('hex');
}

/** The facts sealed in `id`, or undefined when it is not an id this secret minted. */
export function readTaskId(id: string, secret: string): TaskFacts | undefined {
  if (id.length !== ID_LENGTH || !id.startsWith(PREFIX) || !/^[0-9a-f]+$/.test(id.slice(PREFIX.length))) return undefined;
  const raw = Buffer.from(id.slice(PREFIX.length), 'hex');
  const body = raw.subarray(0, BODY_BYTES);
  if (!timingSafeEqual(raw.subarray(BODY_BYTES), mac(secret, body))) return undefined;
  const flags = body[16] ?? 0;
  const aspect = ASPECT_RATIOS[(flags >> 1) & 3];
  const failureIndex = (flags >> 3) & 3;
  if (flags >> 5 !== VERSION || aspect === undefined || failureIndex >= FAILURES.length) return undefined;
  const createTime = body.readUIntBE(4, 6);
  const completeTime = body.readUIntBE(10, 6);
  if (completeTime < createTime) return undefined;
  return {
    createTime,
    completeTime,
    durationSec: flags & 1 ? 10 : 5,
    aspectRatio: aspect,
    failure: FAILURES[failureIndex],
    keyTag: body.toString('hex', 17, 21),
  };
}
