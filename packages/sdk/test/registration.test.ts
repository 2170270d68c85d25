import t, { type Test } from 'tap';
import {
  applySoftwareStatement, checkRegistrationAgainstSsa, SoftwareStatementError,
  type SoftwareStatementClaims, type SoftwareStatementErrorCode,
} from '../src/index.js';

const claims: SoftwareStatementClaims = {
  iss: 'https://directory.example',
  iat: 1_700_000_000,
  exp: 1_700_000_600,
  jti: 'a',
  software_id: 'sw-1',
  software_version: 3,
  software_mode: 'live',
  software_roles: ['AISP'],
  org_id: 'org-1',
  org_name: 'Fintech Ltd',
  org_status: 'active',
  org_jwks_uri: 'https://directory.example/organisations/org-1/jwks',
  client_name: 'Budget App',
  logo_uri: 'https://budget.example/logo.png',
  redirect_uris: ['https://budget.example/cb', 'https://budget.example/cb2'],
  jwks_uri: 'https://directory.example/organisations/org-1/software-statements/sw-1/jwks',
  token_endpoint_auth_method: 'private_key_jwt',
  scope: 'openid accounts payments',
};

function refused(t: Test, metadata: Record<string, unknown>, code: SoftwareStatementErrorCode, options?: { allowedAuthMethods?: string[] }) {
  let error: unknown;
  try {
    checkRegistrationAgainstSsa(metadata, claims, options);
  } catch (e) {
    error = e;
  }
  t.type(error, SoftwareStatementError);
  t.equal((error as SoftwareStatementError).code, code, `${JSON.stringify(metadata)} → ${(error as Error)?.message}`);
}

t.test('a request within the statement passes', async (t) => {
  t.doesNotThrow(() => checkRegistrationAgainstSsa({}, claims), 'empty request: everything comes from the SSA');
  t.doesNotThrow(() => checkRegistrationAgainstSsa({
    redirect_uris: ['https://budget.example/cb2'],
    jwks_uri: claims.jwks_uri,
    scope: 'openid accounts',
    token_endpoint_auth_method: 'private_key_jwt',
    client_name: 'ignored, the SSA wins',
    grant_types: ['authorization_code'],
  }, claims));
});

t.test('ERR_REDIRECT_URI', async (t) => {
  refused(t, { redirect_uris: ['https://attacker.example/cb'] }, 'ERR_REDIRECT_URI');
  refused(t, { redirect_uris: ['https://budget.example/cb', 'https://budget.example/cb3'] }, 'ERR_REDIRECT_URI');
  // Exact match only: no prefix, case or trailing-slash games (RFC 9700 §4.1.3).
  refused(t, { redirect_uris: ['https://budget.example/cb/'] }, 'ERR_REDIRECT_URI');
  refused(t, { redirect_uris: ['https://BUDGET.example/cb'] }, 'ERR_REDIRECT_URI');
  refused(t, { redirect_uris: 'https://budget.example/cb' }, 'ERR_REDIRECT_URI');
  refused(t, { redirect_uris: [null] }, 'ERR_REDIRECT_URI');
});

t.test('ERR_JWKS_URI', async (t) => {
  refused(t, { jwks_uri: 'https://attacker.example/jwks' }, 'ERR_JWKS_URI');
  refused(t, { jwks: { keys: [] } }, 'ERR_JWKS_URI');
});

t.test('ERR_SCOPE', async (t) => {
  refused(t, { scope: 'openid admin' }, 'ERR_SCOPE');
  refused(t, { scope: 'account' }, 'ERR_SCOPE');
  refused(t, { scope: ['openid'] }, 'ERR_SCOPE');
});

t.test('ERR_AUTH_METHOD', async (t) => {
  refused(t, { token_endpoint_auth_method: 'client_secret_basic' }, 'ERR_AUTH_METHOD');
  refused(t, { token_endpoint_auth_method: 'tls_client_auth' }, 'ERR_AUTH_METHOD');
  refused(t, { token_endpoint_auth_method: 'none' }, 'ERR_AUTH_METHOD');
  refused(t, {}, 'ERR_AUTH_METHOD', { allowedAuthMethods: ['tls_client_auth'] });
});

t.test('applySoftwareStatement: the statement wins, narrower request choices stay', async (t) => {
  const applied = applySoftwareStatement({
    client_name: 'Spoofed Bank',
    logo_uri: 'https://attacker.example/logo.png',
    client_uri: 'https://attacker.example',
    redirect_uris: ['https://budget.example/cb2'],
    grant_types: ['authorization_code'],
  }, claims);
  t.equal(applied.client_name, 'Budget App');
  t.equal(applied.logo_uri, claims.logo_uri);
  t.notOk('client_uri' in applied, 'a field the SSA does not carry is not taken from the request either');
  t.same(applied.redirect_uris, ['https://budget.example/cb2']);
  t.equal(applied.scope, claims.scope);
  t.equal(applied.jwks_uri, claims.jwks_uri);
  t.equal(applied.token_endpoint_auth_method, 'private_key_jwt');
  t.equal(applied.software_id, 'sw-1');
  t.equal(applied.software_version, '3', 'RFC 7591 software_version is a string');
  t.same(applied.grant_types, ['authorization_code'], 'other metadata passes through');
  const defaults = applySoftwareStatement({}, claims);
  t.same(defaults.redirect_uris, claims.redirect_uris);
});
