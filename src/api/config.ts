import { UsageError } from '../core/errors.js';
import { redact } from '../core/redact.js';

export const DEFAULT_BASE_URL = 'https://api.apixo.ai';

/**
 * Reads the API settings from the environment; nothing else in the api stage looks at
 * `process.env`. An empty variable counts as unset (`APIXO_BASE_URL= vidbatch …`).
 * The key may be missing: only commands that talk to the provider need it, and they
 * say so themselves.
 */
export function resolveApiConfig(env: NodeJS.ProcessEnv): { baseUrl: string; apiKey: string | undefined } {
  const apiKey = env['APIXO_API_KEY']?.trim() || undefined;
  const rawBase = env['APIXO_BASE_URL']?.trim();
  const baseUrl = rawBase ? normalizeBaseUrl(rawBase, 'APIXO_BASE_URL', apiKey) : DEFAULT_BASE_URL;
  return { baseUrl, apiKey };
}

/**
 * Validates an API base URL and returns it as origin + path prefix without a trailing
 * slash (`https://api.apixo.ai`, `http://127.0.0.1:8080/proxy`). `name` is the variable
 * or option to blame in the message.
 */
export function normalizeBaseUrl(value: string, name: string, apiKey?: string): string {
  // A key pasted into the URL by mistake must not be echoed back in the message.
  const shown = redact(value, [apiKey]);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`Expected \`${name}\` to be an http(s) URL such as ${DEFAULT_BASE_URL}, got \`${shown}\``);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Expected \`${name}\` to be an http(s) URL such as ${DEFAULT_BASE_URL}, got \`${shown}\``);
  }
  if (url.username || url.password) {
    // Not echoed: the part we refuse is a credential.
    throw new UsageError(`Expected \`${name}\` without user:password (the key belongs in APIXO_API_KEY)`);
  }
  if (url.search || url.hash) {
    throw new UsageError(`Expected \`${name}\` without a query or fragment, got \`${shown}\``);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}
