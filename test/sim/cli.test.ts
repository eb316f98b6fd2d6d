import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('runSimulatorCommand prints where it listens and returns on SIGTERM', async () => {
  const script = `import { runSimulatorCommand } from './src/sim/cli.ts';
await runSimulatorCommand({ port: 0, host: '127.0.0.1', timeScale: 0.01, rpm: 100, concurrency: 5, apiKey: 'cli-key-123' });
process.stdout.write('closed\\n');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /apixo simulator listening on (http:\/\/127\.0\.0\.1:\d+) \(time scale 0\.01\)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`exited early: ${out}`)));
  });
  const res = await request(`${url}/api/v1/statusTask/kling-2-5-turbo-pro?taskId=task_0000000000000000`, { headers: { authorization: 'Bearer wrong-key' } });
  await res.body.dump();
  assert.equal(res.statusCode, 401);
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  assert.equal(code, 0);
  assert.match(out, /closed\n$/);
});

test('vidbatch sim: fault flags reach the simulator and are announced; a bad probability is a usage error', async () => {
  const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  const bad = spawn(process.execPath, ['--import', 'tsx', cli, 'sim', '--truncate-downloads', '1.5'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let badErr = '';
  bad.stderr.on('data', (d) => (badErr += d));
  assert.equal(await new Promise((r) => bad.on('exit', r)), 2);
  assert.match(badErr, /probability from 0 to 1/);

  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'sim', '--port', '0', '--time-scale', '0.01', '--credits', '1', '--credits-status', '402', '--slow', '0.5', '--slow-ms', '50', '--expired-urls', '1', '--seed', '3'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+) .*; faults: slowResponse=0\.5 \(50 ms\), expiredUrl=1\n/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`exited early: ${out}`)));
  });
  const post = (prompt: string) =>
    request(`${url}/api/v1/generateTask/kling-2-5-turbo-pro`, {
      method: 'POST',
      headers: { authorization: 'Bearer k-123456', 'content-type': 'application/json' },
      body: JSON.stringify({ input: { mode: 'text-to-video', prompt } }),
    });
  const first = await post('one');
  await first.body.dump();
  const second = await post('two');
  assert.equal(second.statusCode, 402, 'credits ran out after 1, answered 402');
  assert.equal(((await second.body.json()) as { code: number }).code, 402);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
});
