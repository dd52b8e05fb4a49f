// A module signs a citizen in with the certified `openid-client` (6.x):
// discovery, a pushed authorization request with PKCE and a DPoP key,
// the citizen's real passkey session and the consent screen in headless
// Chromium, the code exchanged for DPoP-bound tokens, userinfo, refresh
// rotation and reuse detection.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import * as jose from 'jose';
import * as oidc from 'openid-client';

import { SITI, assertNoProblems, enrolSelf, signOut } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();
const REDIRECT = 'http://localhost:9/masuk/callback';

test('openid-client signs a citizen in: PAR, PKCE, DPoP, passkey session, consent, userinfo, refresh', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'antrian-1', use: 'sig' };
    const file = path.join(jaga.dir, 'antrian.jwks.json');
    await writeFile(file, JSON.stringify({ keys: [jwk] }));
    await jaga.cli(['modules', 'add', '--name', 'antrian', '--jwks', file, '--grant', 'authorization_code',
      '--grant', 'refresh_token', '--redirect-uri', REDIRECT, '--audience', 'citizen']);
    const config = await oidc.discovery(
      new URL(jaga.base),
      'antrian',
      { token_endpoint_auth_method: 'private_key_jwt', id_token_signed_response_alg: 'ES256' },
      oidc.PrivateKeyJwt({ key: privateKey, kid: jwk.kid }),
      { execute: [oidc.allowInsecureRequests] },
    );
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));

    const siti = await person();
    await enrolSelf(siti, jaga.base, SITI);
    await siti.page.goto(`${jaga.base}/`);
    await signOut(siti, jaga.base);

    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const url = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT,
      scope: 'openid antrian.call antrian.priority',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    }, { DPoP });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);

    // The browser lands on the module's callback; nothing listens there,
    // so the test answers for it.
    let callback = null;
    await siti.page.route(`${REDIRECT}**`, async (route) => {
      callback = route.request().url();
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'ok' });
    });
    // Signed out: the sign-in page, a passkey sign-in (the page's autofill
    // request, answered by the virtual authenticator), and back to the
    // consent screen.
    const signedIn = siti.page.waitForResponse((r) => r.url() === `${jaga.base}/api/signin/finish`);
    await siti.page.goto(url.href);
    assert.equal((await signedIn).status(), 200);
    await siti.page.getByRole('heading', { name: 'Masuk ke layanan' }).waitFor();
    assert.equal(new URL(siti.page.url()).pathname, '/oauth/authorize');
    await siti.page.getByLabel('Saya setuju: Layanan prioritas antrean').check();
    await siti.page.getByRole('button', { name: 'Lanjutkan' }).click();
    await siti.page.waitForURL(`${REDIRECT}**`);
    assert.ok(callback, 'the browser reached the callback');

    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    }, undefined, { DPoP });
    assert.equal(tokens.token_type, 'dpop');
    const claims = tokens.claims();
    assert.equal(claims.aud, 'antrian');
    assert.deepEqual(claims.amr, ['pop', 'user', 'mfa']);
    assert.match(tokens.scope, /antrian\.priority/);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP });
    assert.equal(info.sub, claims.sub);
    assert.equal(info.name, 'S. A.');

    const rotated = await oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
    assert.notEqual(rotated.refresh_token, tokens.refresh_token);
    await assert.rejects(
      oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP }),
      (error) => error.error === 'invalid_grant',
    );
    // Reuse revoked the whole sign-in, the rotated token with it.
    await assert.rejects(
      oidc.refreshTokenGrant(config, rotated.refresh_token, undefined, { DPoP }),
      (error) => error.error === 'invalid_grant',
    );
    assertNoProblems(siti);
  }));
