import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { errorFromNetwork, excerpt, type CallContext } from '../../src/api/classify.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { KEY } from './server.js';

const CALL: CallContext = { method: 'POST', path: '/api/v1/generateTask/m', apiKey: KEY };

function withCode(code: string, message = `boom ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

test('errorFromNetwork: connect-phase codes mean the request was never sent', () => {
  for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']) {
    const e = errorFromNetwork(CALL, withCode(code));
    assert.equal(e.code, ERROR_CODES.NETWORK, code);
    assert.equal(e.sent, false, code);
    assert.equal(e.status, 0);
  }
});

test('errorFromNetwork: anything after connecting, or unknown, may have been received', () => {
  for (const err of [withCode('ECONNRESET'), withCode('UND_ERR_SOCKET'), withCode('UND_ERR_HEADERS_TIMEOUT'), withCode('UND_ERR_BODY_TIMEOUT'), withCode('EPIPE'), new Error('no code'), 'a string']) {
    const e = errorFromNetwork(CALL, err);
    assert.equal(e.code, ERROR_CODES.NETWORK);
    assert.equal(e.sent, true, String(err));
  }
});

test('errorFromNetwork: decides on the code, not the text', () => {
  assert.equal(errorFromNetwork(CALL, withCode('ECONNRESET', 'connect ECONNREFUSED 127.0.0.1:1')).sent, true);
  assert.equal(errorFromNetwork(CALL, withCode('ECONNREFUSED', 'socket hang up')).sent, false);
});

test('errorFromNetwork: an AggregateError (happy eyeballs) is judged by its first inner error', () => {
  const agg = new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'all attempts failed');
  assert.equal(errorFromNetwork(CALL, agg).sent, false);
});

test('errorFromNetwork: the key is redacted from the underlying message', () => {
  const e = errorFromNetwork(CALL, withCode('ECONNRESET', `header Authorization: Bearer ${KEY} rejected`));
  assert.ok(!e.message.includes(KEY), e.message);
  assert.match(e.message, /^apixo POST \/api\/v1\/generateTask\/m failed after the request may have reached the server \(ECONNRESET\)/);
});

test('excerpt: whitespace collapsed, 200 characters, empty named', () => {
  assert.equal(excerpt('  a\n\n b  '), 'a b');
  assert.equal(excerpt(''), '(empty body)');
  assert.equal(excerpt('y'.repeat(300)), `${'y'.repeat(200)}…`);
});
