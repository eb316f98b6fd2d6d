/**
 * The strategy a user would write by hand from the documentation: submit, wait 30 s,
 * then poll every 5 s until the task is done (both scaled by the bench's time
 * compression), download the result. It keeps at most `cap` tasks in flight (the
 * documented 1,000 concurrent tasks) and on a 429 waits Retry-After and tries again
 * ("Exceeding limits returns 429 error. Wait and retry.").
 *
 * Its slot is freed as soon as the result is known, before the download: the fairest
 * reading for it.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { Agent, Pool, request } from 'undici';

export interface BaselineTask {
  prompt: string;
  duration: 5 | 10;
}

export interface BaselineResult {
  detectedAt: number;
  archivedAt: number;
  completeTime: number;
  costTime: number;
  requests: number;
  limited: number;
}

const MODEL = 'kling-2-5-turbo-pro';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runBaseline(o: { simUrl: string; apiKey: string; tasks: BaselineTask[]; cap: number; scale: number; dir: string }): Promise<BaselineResult[]> {
  const pool = new Pool(o.simUrl, { connections: 64 });
  const files = new Agent({ connections: 16 });
  const slots = pLimit(o.cap);
  const downloads = pLimit(4);
  const headers = { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' };

  async function call(method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; json: any; retryAfterMs: number }> {
    const res = await pool.request({ method, path, headers, ...(body ? { body } : {}) });
    const text = await res.body.text();
    const ra = Number(res.headers['retry-after']);
    return { status: res.statusCode, json: text ? JSON.parse(text) : undefined, retryAfterMs: Number.isFinite(ra) ? ra * 1000 : 1000 };
  }

  async function one(t: BaselineTask, i: number): Promise<BaselineResult> {
    let requests = 0;
    let limited = 0;
    const { url, data, detectedAt } = await slots(async () => {
      let taskId: string;
      for (;;) {
        requests++;
        const r = await call('POST', `/api/v1/generateTask/${MODEL}`, JSON.stringify({ request_type: 'async', provider: 'auto', input: { mode: 'text-to-video', prompt: t.prompt, duration: t.duration, aspect_ratio: '16:9' } }));
        if (r.status === 429) {
          limited++;
          await sleep(r.retryAfterMs);
          continue;
        }
        if (r.status !== 200) throw new Error(`submit answered ${r.status}`);
        taskId = r.json.data.taskId;
        break;
      }
      await sleep(30_000 * o.scale);
      for (;;) {
        requests++;
        const r = await call('GET', `/api/v1/statusTask/${MODEL}?taskId=${taskId}`);
        if (r.status === 429) {
          limited++;
          await sleep(r.retryAfterMs);
          continue;
        }
        const d = r.json.data;
        if (d.state === 'success') return { url: JSON.parse(d.resultJson).resultUrls[0] as string, data: d, detectedAt: Date.now() };
        if (d.state === 'failed') throw new Error(`task failed: ${d.failCode}`);
        await sleep(5_000 * o.scale);
      }
    });
    await downloads(async () => {
      const res = await request(url, { dispatcher: files });
      await pipeline(res.body, createWriteStream(`${o.dir}/${i}.mp4`));
    });
    return { detectedAt, archivedAt: Date.now(), completeTime: data.completeTime, costTime: data.costTime, requests, limited };
  }

  try {
    return await Promise.all(o.tasks.map(one));
  } finally {
    await Promise.all([pool.close(), files.close()]);
  }
}
