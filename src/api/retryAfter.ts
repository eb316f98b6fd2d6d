/**
 * Retry-After (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date. Shaped after
 * undici's retry handler, with two differences: garbage gives `undefined` instead of
 * 0 (so the caller's own backoff applies rather than an instant retry), and only the
 * three HTTP-date formats are accepted, because `Date.parse` reads almost anything
 * ("1.5" is 5 January 2001).
 */

/** Upper bound on any wait we take from the server; a misconfigured gateway must not park a run for hours. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

const DELAY_SECONDS = /^\d+$/;
// Sun, 06 Nov 1994 08:49:37 GMT  (IMF-fixdate, the one servers should send)
const IMF_FIXDATE = /^[a-z]{3}, \d{2} [a-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/i;
// Sunday, 06-Nov-94 08:49:37 GMT  (obsolete RFC 850, recipients must still accept it)
const RFC_850 = /^[a-z]{6,9}, \d{2}-[a-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/i;
// Sun Nov  6 08:49:37 1994  (obsolete asctime, implicitly GMT)
const ASCTIME = /^[a-z]{3} [a-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/i;

/**
 * Milliseconds to wait, from `now` (epoch ms), capped at {@link MAX_RETRY_AFTER_MS}.
 * A date in the past gives 0. Missing or unparseable values give `undefined`.
 * With several headers the first one counts.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const v = raw.trim();
  if (DELAY_SECONDS.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  let at: number;
  if (IMF_FIXDATE.test(v) || RFC_850.test(v)) at = Date.parse(v);
  else if (ASCTIME.test(v)) at = Date.parse(`${v} GMT`); // without a zone V8 would read local time
  else return undefined;
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - now, 0), MAX_RETRY_AFTER_MS);
}
