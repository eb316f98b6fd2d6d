export { ApixoClient, MAX_RESPONSE_BYTES, type ApixoClientOptions } from './client.js';
export { resolveApiConfig, normalizeBaseUrl, DEFAULT_BASE_URL } from './config.js';
export { parseRetryAfter, MAX_RETRY_AFTER_MS } from './retryAfter.js';
export { errorCodeOf } from './classify.js';
