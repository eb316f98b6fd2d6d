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
