import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ApixoClient, DEFAULT_BASE_URL, resolveApiConfig } from '../../src/api/index.js';
import { ERROR_CODES, UsageError } from '../../src/core/errors.js';

test('resolveApiConfig: defaults, and empty counts as unset', () => {
  assert.deepEqual(resolveApiConfig({}), { baseUrl: DEFAULT_BASE_URL, apiKey: undefined });
  assert.deepEqual(resolveApiConfig({ APIXO_BASE_URL: '', APIXO_API_KEY: ' ' }), { baseUrl: 'https://api.apixo.ai', apiKey: undefined });
});

test('resolveApiConfig: reads both variables and trims trailing slashes', () => {
  assert.deepEqual(resolveApiConfig({ APIXO_BASE_URL: 'http://127.0.0.1:8080/', APIXO_API_KEY: 'sk-abc123' }), {
    baseUrl: 'http://127.0.0.1:8080',
    apiKey: 'sk-abc123',
  });
  assert.equal(resolveApiConfig({ APIXO_BASE_URL: 'https://gw.example.com/apixo//' }).baseUrl, 'https://gw.example.com/apixo');
});

test('resolveApiConfig: a non-http(s) or unparseable URL is a UsageError naming the variable', () => {
  for (const v of ['ftp://api.apixo.ai', 'api.apixo.ai', 'not a url', 'file:///etc/passwd']) {
    assert.throws(
      () => resolveApiConfig({ APIXO_BASE_URL: v }),
      (e: unknown) => e instanceof UsageError && e.code === ERROR_CODES.USAGE && e.message.includes('`APIXO_BASE_URL`'),
      v,
    );
  }
});

test('resolveApiConfig: credentials, query or fragment in the URL are refused without echoing secrets', () => {
  assert.throws(() => resolveApiConfig({ APIXO_BASE_URL: 'https://user:hunter2hunter2@api.apixo.ai' }), (e: unknown) => {
    return e instanceof UsageError && e.message.includes('APIXO_BASE_URL') && !e.message.includes('hunter2');
  });
  const key = 'sk-secret-0123456789';
  assert.throws(() => resolveApiConfig({ APIXO_BASE_URL: `https://api.apixo.ai/?key=${key}`, APIXO_API_KEY: key }), (e: unknown) => {
    return e instanceof UsageError && e.message.includes('query') && !e.message.includes(key);
  });
});

test('ApixoClient: options are validated with messages naming the option', () => {
  const ok = { baseUrl: 'http://127.0.0.1:9', apiKey: 'sk-abc123' };
  const cases: [object, string][] = [
    [{ ...ok, apiKey: '' }, '`apiKey`'],
    [{ ...ok, apiKey: 'sk abc' }, '`apiKey`'],
    [{ ...ok, apiKey: 'sk-abc\r\nX-Evil: 1' }, '`apiKey`'],
    [{ ...ok, baseUrl: 'ftp://x' }, '`baseUrl`'],
    [{ ...ok, connections: 0 }, 'Expected `connections` to be an integer from 1 and up, got `0` (number)'],
    [{ ...ok, connections: 1.5 }, '`connections`'],
    [{ ...ok, headersTimeoutMs: -1 }, '`headersTimeoutMs`'],
    [{ ...ok, bodyTimeoutMs: Number.NaN }, '`bodyTimeoutMs`'],
    [{ ...ok, connectTimeoutMs: 0 }, '`connectTimeoutMs`'],
  ];
  for (const [opts, expected] of cases) {
    assert.throws(
      () => new ApixoClient(opts as ConstructorParameters<typeof ApixoClient>[0]),
      (e: unknown) => e instanceof UsageError && e.message.includes(expected) && !e.message.includes('sk-abc'),
      expected,
    );
  }
});
