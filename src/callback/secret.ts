import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The secret path segment callbacks must arrive on. Derived (HMAC-SHA256) from the API
 * key and the run name rather than drawn at random per process: a run resumed after a
 * crash gets the same path, so the callbacks of tasks submitted before the crash still
 * land. It is unguessable without the key, reveals nothing about the key, and changes
 * with the run. Someone who learns it (a proxy log) can only send hints, and every hint
 * is verified with a status GET before anything is recorded.
 */
export function callbackSecret(apiKey: string, run: string): string {
  return createHmac('sha256', apiKey).update(`vidbatch callback path\0${run}`).digest('base64url');
}

/** Constant-time comparison of a candidate path segment with the secret. */
export function secretMatches(candidate: string, secret: string): boolean {
  const a = Buffer.from(candidate);
  const b = Buffer.from(secret);
  // timingSafeEqual needs equal lengths; compare the secret with itself so a wrong
  // length costs the same time as a wrong secret.
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** `publicUrl` with the secret appended as the last path segment (the query is kept). */
export function withSecret(publicUrl: string, secret: string): string {
  const u = new URL(publicUrl);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${secret}`;
  return u.toString();
}

/** The same URL for messages and logs: the secret replaced by an ellipsis. */
export function redactSecret(url: string, secret: string): string {
  return url.split(secret).join('…');
}
