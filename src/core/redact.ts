/**
 * Secrets must never reach a log, a file or an error message. Every message that may
 * contain request data passes through `redact` with the key in force.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    // Short strings would blank out ordinary words; real keys are long.
    if (s && s.length >= 6) out = out.split(s).join('[REDACTED]');
  }
  return out.replace(/(Bearer\s+)[^\s"']+/gi, '$1[REDACTED]');
}
