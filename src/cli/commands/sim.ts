import { Command } from 'commander';
import { runSimulatorCommand } from '../../sim/cli.js';
import { port, positiveInt, positiveNumber } from '../parse.js';

export function simCommand(): Command {
  return new Command('sim')
    .description("run the apixo API simulator in the foreground (for rehearsals: point APIXO_BASE_URL at it)")
    .option('--port <n>', 'port to listen on (0: any free port)', port, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--time-scale <x>', 'multiply the documented generation times (0.01: a 5 s video takes 0.3–0.45 s)', positiveNumber, 1)
    .option('--rpm <n>', 'requests per minute per key before 429', positiveInt, 10_000)
    .option('--concurrency <n>', 'tasks in flight per key before 429', positiveInt, 1000)
    .option('--api-key <key>', 'accept only this key (default: any non-empty key)')
    .option('--credits <n>', 'answer "Insufficient credits" after this many tasks', positiveInt)
    .addHelpText('after', `
Examples:
  $ vidbatch sim --port 8787 --time-scale 0.05
  $ APIXO_BASE_URL=http://127.0.0.1:8787 APIXO_API_KEY=anything vidbatch run manifests/example.yaml`)
    .action(async (flags: { port: number; host: string; timeScale: number; rpm: number; concurrency: number; apiKey?: string; credits?: number }) => {
      await runSimulatorCommand(flags);
    });
}
