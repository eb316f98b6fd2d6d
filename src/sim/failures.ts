/**
 * Deterministic task failures, so that a rehearsal can exercise the documented fail
 * codes on purpose. A failed task completes after the same generation time a successful
 * one would have taken; its status then carries `failCode` and `failMsg`.
 *
 * | trigger                                                            | failCode          | failMsg                                 |
 * | ------------------------------------------------------------------ | ----------------- | --------------------------------------- |
 * | an image URL whose host ends with `.invalid` (RFC 2606 reserved TLD) | INVALID_IMAGE_URL | Cannot access provided image URL        |
 * | `input.prompt` contains `#violation` (any letter case)               | CONTENT_VIOLATION | Content does not meet safety guidelines |
 *
 * When both apply, INVALID_IMAGE_URL wins: the images are fetched before the content is
 * judged. Only `prompt` is moderated; `negative_prompt` is not.
 */
import type { VideoInput } from '../core/types.js';

export const VIOLATION_MARKER = '#violation';

export interface FailReason {
  failCode: string;
  failMsg: string;
}

export const FAIL_REASONS = {
  INVALID_IMAGE_URL: { failCode: 'INVALID_IMAGE_URL', failMsg: 'Cannot access provided image URL' },
  CONTENT_VIOLATION: { failCode: 'CONTENT_VIOLATION', failMsg: 'Content does not meet safety guidelines' },
} as const satisfies Record<string, FailReason>;

function unreachableHost(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/\.$/, '');
    return host.endsWith('.invalid');
  } catch {
    return true;
  }
}

/** The failure a task made from this (validated) input will end in, or undefined for success. */
export function plannedFailure(input: VideoInput): FailReason | undefined {
  if (input.image_urls?.some(unreachableHost)) return FAIL_REASONS.INVALID_IMAGE_URL;
  if (input.prompt.toLowerCase().includes(VIOLATION_MARKER)) return FAIL_REASONS.CONTENT_VIOLATION;
  return undefined;
}
