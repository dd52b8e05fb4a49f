// A service module as a real OAuth client: the certified `openid-client`
// (6.x) discovers Jaga, authenticates with private_key_jwt, gets a
// DPoP-bound access token by client credentials (following Jaga's DPoP
// nonce), calls the module API with it, introspects and revokes it.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import * as jose from 'jose';
import * as oidc from 'openid-client';

import { TEST_TIMEOUT_MS } from '../lib/harness.mjs';
import { startJaga } from '../lib/jaga.mjs';

/** Registers `name` with a fresh key pair of `alg`; returns its openid-client configuration. */
async function registeredModule(jaga, name, alg) {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg);
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: `${name}-1`, use: 'sig' };
  const file = path.join(jaga.dir, `${name}.jwks.json`);
  await writeFile(file, JSON.stringify({ keys: [jwk] }));
  await jaga.cli(['modules', 'add', '--name', name, '--jwks', file]);
  return oidc.discovery(
    new URL(jaga.base),
    name,
    { token_endpoint_auth_method: 'private_key_jwt' },
    oidc.PrivateKeyJwt({ key: privateKey, kid: jwk.kid }),
    { execute: [oidc.allowInsecureRequests] },
  );
}

test('a module signs in with openid-client: private_key_jwt, DPoP, module API, introspection, revocation', { timeout: TEST_TIMEOUT_MS }, async () => {
  const jaga = await startJaga();
  try {
    const config = await registeredModule(jaga, 'antrian', 'ES256');
    assert.equal(config.serverMetadata().issuer, jaga.base);
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));

    const tokens = await oidc.clientCredentialsGrant(config, {}, { DPoP });
    assert.equal(tokens.token_type, 'dpop');
    assert.equal(tokens.expiresIn() > 250, true);
    assert.match(tokens.scope, /\bcollections\b/);

    const collection = new URL(`${jaga.base}/api/collections/antrian.ticket`);
    const definition = JSON.stringify({ fields: [{ name: 'queue_number', classification: 'personal' }] });
    const defined = await oidc.fetchProtectedResource(config, tokens.access_token, collection, 'PUT', definition,
      new Headers({ 'content-type': 'application/json' }), { DPoP });
    assert.equal(defined.status, 200, await defined.clone().text());
    const described = await oidc.fetchProtectedResource(config, tokens.access_token, collection, 'GET', undefined, undefined, { DPoP });
    assert.equal((await described.json()).name, 'antrian.ticket');

    const active = await oidc.tokenIntrospection(config, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.client_id, 'antrian');
    assert.equal(active.token_type, 'DPoP');

    // Another module (an Ed25519 key) learns nothing about antrian's token.
    const survei = await registeredModule(jaga, 'survei', 'Ed25519');
    assert.equal((await oidc.tokenIntrospection(survei, tokens.access_token)).active, false);

    await oidc.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false);
    await assert.rejects(
      oidc.fetchProtectedResource(config, tokens.access_token, collection, 'GET', undefined, undefined, { DPoP }),
      (error) => error instanceof oidc.WWWAuthenticateChallengeError && error.cause[0].parameters.error === 'invalid_token',
    );

    // A fresh grant works again; a bearer (unbound) use of it does not.
    const again = await oidc.clientCredentialsGrant(config, { scope: 'collections' }, { DPoP });
    const bearer = await fetch(collection, { headers: { authorization: `Bearer ${again.access_token}` } });
    assert.equal(bearer.status, 401);
  } catch (error) {
    error.message += `\n--- jaga log (last 30 lines) ---\n${jaga.logs().split('\n').slice(-30).join('\n')}`;
    throw error;
  } finally {
    await jaga.stop();
  }
});
