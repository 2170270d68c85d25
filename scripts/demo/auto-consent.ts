import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Provider } from 'oidc-provider';

/** Where oidc-provider sends the user agent for login and consent (`interactions.url`). */
export const INTERACTION_PATH = '/interaction/';

/**
 * A test-only user: the interaction endpoint logs in a fixed account and grants exactly what the authorisation
 * request asked for, without a page. It stands for the bank's login and consent screens, which are outside what this
 * harness tests; never expose it outside tests.
 */
export async function autoConsent(provider: Provider, req: IncomingMessage, res: ServerResponse, accountId: string): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params } = details;
  let result: Record<string, unknown>;
  if (prompt.name === 'login') {
    result = { login: { accountId } };
  } else if (prompt.name === 'consent') {
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId: details.session?.accountId ?? accountId, clientId: params.client_id });
    const missing = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  } else {
    result = { error: 'access_denied', error_description: `prompt ${prompt.name} is not handled by the test interaction` };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}
