import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch, request } from 'undici';
import type { Fintech } from './ecosystem.js';

/**
 * The fintech's side at a bank, with openid-client 6 (a third-party FAPI client): dynamic client registration with
 * the directory SSA, then PAR → authorisation → code + PKCE → certificate-bound access token, every call over mTLS
 * with the transport certificate the directory issued to the fintech's software.
 */

/** openid-client's customFetch over an undici dispatcher (the mTLS agent). */
export function fetchWith(agent: Agent): oidc.CustomFetch {
  return (url, options) => undiciFetch(url, { ...options, dispatcher: agent } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
}

/** RFC 7591 registration at the bank's AS: the SSA decides the metadata; `private_key_jwt` with the software's signing key. */
export function registerAtBank(
  asIssuer: string,
  fintech: Fintech,
  softwareStatement: string,
  metadata: Partial<oidc.ClientMetadata> = {},
): Promise<oidc.Configuration> {
  return oidc.dynamicClientRegistration(new URL(asIssuer), {
    software_statement: softwareStatement,
    redirect_uris: fintech.software.redirect_uris,
    ...metadata,
  } as Partial<oidc.ClientMetadata>, oidc.PrivateKeyJwt({ key: fintech.signing.cryptoKey, kid: fintech.signing.kid }), {
    [oidc.customFetch]: fetchWith(fintech.agent),
  });
}

/** A registration that is expected to fail: the raw HTTP answer, to see the AS's error and description. */
export async function registerRaw(asIssuer: string, agent: Agent, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(`${asIssuer}/reg`, {
    method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: response.statusCode, body: await response.body.json() as Record<string, unknown> };
}

/**
 * The user agent: follows the AS's redirects, keeping its cookies, through the (test-only, automatic) login and
 * consent, until the AS sends it to another origin: the client's redirect_uri with the code.
 */
export async function userAgent(url: URL, browser: Agent): Promise<URL> {
  const jar = new Map<string, string>();
  const origin = url.origin;
  let next = url;
  for (let hop = 0; hop < 10; hop += 1) {
    if (next.origin !== origin) return next;
    const response = await request(next, {
      dispatcher: browser,
      headers: { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const header of [response.headers['set-cookie'] ?? []].flat()) {
      const [pair] = header.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at).trim(), pair!.slice(at + 1));
    }
    const body = await response.body.text();
    const location = response.headers.location;
    if (typeof location !== 'string') throw new Error(`authorisation stopped at ${next.pathname} with HTTP ${response.statusCode}: ${body}`);
    next = new URL(location, next);
  }
  throw new Error('too many redirects');
}

export interface CodeFlow {
  /** The URL the user agent was sent to (after PAR: only client_id and request_uri). */
  authorizationUrl: URL;
  /** Where the AS sent the user agent back: redirect_uri with code and state (and iss, RFC 9207). */
  callback: URL;
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
}

/** PAR (pushed over mTLS with the client assertion) → user agent → code + PKCE verifier at the token endpoint. */
export async function codeFlow(config: oidc.Configuration, options: { redirectUri: string; scope: string; browser: Agent }): Promise<CodeFlow> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const authorizationUrl = await oidc.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: options.redirectUri,
    scope: options.scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const callback = await userAgent(authorizationUrl, options.browser);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  return { authorizationUrl, callback, tokens };
}

/** GET a protected resource with the access token, over the given mTLS agent. */
export async function callResource(agent: Agent, url: string, token: string): Promise<{ status: number; challenge: string | undefined; body: Record<string, unknown> }> {
  const response = await request(url, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
  const challenge = response.headers['www-authenticate'];
  return {
    status: response.statusCode,
    challenge: Array.isArray(challenge) ? challenge[0] : challenge,
    body: await response.body.json() as Record<string, unknown>,
  };
}
