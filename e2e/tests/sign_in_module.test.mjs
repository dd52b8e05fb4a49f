// A module signs a citizen in with the certified `openid-client` (6.x):
// discovery, a pushed authorization request with PKCE and a DPoP key,
// the citizen's real passkey session and the consent screen in headless
// Chromium, the code exchanged for DPoP-bound tokens, userinfo, refresh
// rotation and reuse detection; RP-initiated logout and the back-channel
// logout a small module endpoint receives.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';

import * as jose from 'jose';
import * as oidc from 'openid-client';

import { SITI, assertNoProblems, enrolSelf, signOut } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();
const REDIRECT = 'http://localhost:8989/masuk/callback';

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

    // Rotation: each refresh gives a new refresh token.
    const rotated = await oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
    assert.notEqual(rotated.refresh_token, tokens.refresh_token);
    const again = await oidc.refreshTokenGrant(config, rotated.refresh_token, undefined, { DPoP });
    // Reuse: the first one, whose successor has been used, revokes the
    // whole sign-in, the newest token with it.
    await assert.rejects(
      oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP }),
      (error) => error.error === 'invalid_grant',
    );
    await assert.rejects(
      oidc.refreshTokenGrant(config, again.refresh_token, undefined, { DPoP }),
      (error) => error.error === 'invalid_grant',
    );
    assertNoProblems(siti);
  }));

test('a module sends the citizen to sign out; its back-channel logout endpoint hears it, signed', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    // A small module: its callback, its page after signing out, and its
    // back-channel logout endpoint.
    const received = [];
    const visits = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/logout') received.push(new URLSearchParams(body).get('logout_token'));
        else visits.push(req.url);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const moduleBase = `http://127.0.0.1:${server.address().port}`;
    const logoutUri = `${moduleBase}/logout`;
    const REDIRECT = `${moduleBase}/masuk/callback`;
    const AFTER_LOGOUT = `${moduleBase}/sampai-jumpa`;
    try {
      const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
      const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'antrian-1', use: 'sig' };
      const file = path.join(jaga.dir, 'antrian.jwks.json');
      await writeFile(file, JSON.stringify({ keys: [jwk] }));
      await jaga.cli(['modules', 'add', '--name', 'antrian', '--jwks', file, '--grant', 'authorization_code',
        '--grant', 'refresh_token', '--redirect-uri', REDIRECT, '--backchannel-logout-uri', logoutUri,
        '--post-logout-redirect-uri', AFTER_LOGOUT]);
      const config = await oidc.discovery(new URL(jaga.base), 'antrian',
        { token_endpoint_auth_method: 'private_key_jwt', id_token_signed_response_alg: 'ES256' },
        oidc.PrivateKeyJwt({ key: privateKey, kid: jwk.kid }), { execute: [oidc.allowInsecureRequests] });
      assert.equal(config.serverMetadata().backchannel_logout_supported, true);
      const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));

      const siti = await person();
      await enrolSelf(siti, jaga.base, SITI);
      const verifier = oidc.randomPKCECodeVerifier();
      const url = await oidc.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }, { DPoP });
      // Signed in already and no consent to ask: straight back with a code.
      await siti.page.goto(url.href);
      await siti.page.waitForURL(`${REDIRECT}**`);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(siti.page.url()),
        { pkceCodeVerifier: verifier, idTokenExpected: true }, undefined, { DPoP });

      // The module's "sign out" link: Jaga asks, she confirms, she is back.
      const end = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: AFTER_LOGOUT, state: 'sampai-jumpa' });
      await siti.page.goto(end.href);
      await siti.page.getByRole('heading', { name: 'Keluar dari Jaga' }).waitFor();
      await siti.page.getByRole('button', { name: 'Ya, keluar' }).click();
      await siti.page.waitForURL(`${AFTER_LOGOUT}?state=sampai-jumpa`);

      // The back channel: a logout token signed with Jaga's published key.
      for (let i = 0; i < 100 && received.length === 0; i += 1) await new Promise((r) => setTimeout(r, 100));
      assert.equal(received.length, 1);
      const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
      const { payload, protectedHeader } = await jose.jwtVerify(received[0], jwks, {
        issuer: jaga.base, audience: 'antrian', typ: 'logout+jwt',
      });
      assert.equal(protectedHeader.alg, 'ES256');
      assert.equal(payload.sub, tokens.claims().sub);
      assert.equal(payload.sid, tokens.claims().sid);
      assert.ok(payload.events['http://schemas.openid.net/event/backchannel-logout']);
      await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP }),
        (error) => error.error === 'invalid_grant');
      assertNoProblems(siti);
    } finally {
      server.close();
    }
  }));
