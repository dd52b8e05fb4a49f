// oidc-provider (9.x), configured the way Jaga's OAuth side is, so that
// scripts/bench-oauth.sh can measure both with one load generator:
// private_key_jwt (ES256) client authentication, DPoP with required server
// nonces, ES256 JWT access tokens (RFC 9068) for one resource, 5 minutes,
// introspection, the default in-memory store.
//
//   PORT=… CLIENT_JWKS=file.json node peer.mjs

import crypto from 'node:crypto';
import fs from 'node:fs';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const resource = `${issuer}/api`;
// oidc-provider cannot introspect its JWT access tokens ("Structured JWT
// Tokens cannot be introspected"): for the introspection measurement the
// benchmark starts a second peer with OPAQUE=1, otherwise the same.
const format = process.env.OPAQUE === '1'
  ? { accessTokenFormat: 'opaque' }
  : { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
const clientJwks = JSON.parse(fs.readFileSync(process.env.CLIENT_JWKS, 'utf8'));

const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signing = { ...privateKey.export({ format: 'jwk' }), kid: 'peer-1', use: 'sig', alg: 'ES256' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'antrian',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      jwks: clientJwks,
      scope: 'collections',
      // The only signing key is ES256 (oidc-provider checks this even for
      // a client that never gets an ID token).
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [signing] },
  scopes: ['collections'],
  enabledJWA: {
    clientAuthSigningAlgValues: ['ES256'],
    dPoPSigningAlgValues: ['ES256'],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    dPoP: { enabled: true, nonceSecret: crypto.randomBytes(32), requireNonce: () => true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'collections',
        audience: resource,
        accessTokenTTL: 300,
        ...format,
      }),
    },
  },
});
provider.on('server_error', (ctx, error) => console.error('server_error', error));
provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
