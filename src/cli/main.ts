#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ERROR_CODES, ManifestError, UsageError, VidbatchError } from '../core/errors.js';
import { EXIT, type ExitCode } from '../core/exitCodes.js';
import { redact } from '../core/redact.js';
import { exportCommand } from './commands/export.js';
import { reportCommand } from './commands/report.js';
import { retryCommand } from './commands/retry.js';
import { planCommand } from './commands/plan.js';
import { runCommand } from './commands/run.js';
import { simCommand } from './commands/sim.js';
import { statusCommand } from './commands/status.js';
import { isEntryPoint } from '../core/entryPoint.js';

const CODE_EXIT: Partial<Record<string, ExitCode>> = {
  [ERROR_CODES.USAGE]: EXIT.USAGE,
  [ERROR_CODES.MANIFEST_INVALID]: EXIT.MANIFEST,
  [ERROR_CODES.RUN_LOCKED]: EXIT.LOCKED,
  [ERROR_CODES.AUTH]: EXIT.AUTH,
  [ERROR_CODES.CREDITS]: EXIT.CREDITS,
};

export function buildProgram(setExit: (code: ExitCode) => void): Command {
  const program = new Command('vidbatch')
    .description('turn CSV/YAML prompt sheets into archived, verified videos through the apixo API')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const cmd of [runCommand(setExit), planCommand(), statusCommand(), retryCommand(), reportCommand(), exportCommand(), simCommand()]) {
    program.addCommand(cmd.exitOverride().showHelpAfterError());
  }
  return program;
}

/**
 * `.env` in the working directory (git-ignored), read with Node's own loader: a variable
 * already set in the environment wins over the file.
 */
export function loadDotEnv(file = resolve('.env')): boolean {
  if (!existsSync(file)) return false;
  try {
    process.loadEnvFile(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  return true;
}

/** The only place that turns errors into exit codes and messages. */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  let code: ExitCode = EXIT.OK;
  const program = buildProgram((c) => (code = c));
  try {
    loadDotEnv();
    await program.parseAsync(argv as string[]);
    return code;
  } catch (err) {
    const secret = process.env.APIXO_API_KEY;
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof ManifestError) {
      process.stderr.write(err.message + '\n');
      return EXIT.MANIFEST;
    }
    if (err instanceof VidbatchError) {
      process.stderr.write(redact(`vidbatch: ${err.message}`, [secret]) + '\n');
      return CODE_EXIT[err.code] ?? EXIT.INTERNAL;
    }
    process.stderr.write(redact(`vidbatch: unexpected error: ${(err as Error)?.stack ?? String(err)}`, [secret]) + '\n');
    return EXIT.INTERNAL;
  }
}

if (isEntryPoint(import.meta.url)) {
  // `vidbatch export | head`: the reader went away; that is not an error of ours.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const code = await main(process.argv);
  // Let stdout drain, then leave with the code even if a handle (a pool socket) lingers.
  process.exitCode = code;
  setTimeout(() => process.exit(code), 200).unref();
}
