// oidc-provider 9 ships no TypeScript declarations (and @types/oidc-provider is not installed); this declares the
// part of its surface the demo authorisation server uses. The library's own documentation is the reference.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** Koa context extended by oidc-provider (`ctx.oidc`); loosely typed on purpose. */
  export interface KoaContextWithOIDC {
    method: string;
    path: string;
    status: number;
    body: unknown;
    req: IncomingMessage;
    res: ServerResponse;
    state: Record<string, unknown>;
    oidc?: {
      route?: string;
      body?: Record<string, unknown>;
      client?: { clientId: string };
      [key: string]: unknown;
    };
    set(field: string, value: string): void;
    [key: string]: unknown;
  }

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown> & { client_id: string; scope?: string };
    session?: { accountId?: string };
    grantId?: string;
  }

  export class Grant {
    constructor(properties: { accountId: string; clientId: string });
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
    static find(id: string): Promise<Grant | undefined>;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    readonly issuer: string;
    readonly Grant: typeof Grant;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): void;
    on(event: string, listener: (...args: unknown[]) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  type OIDCError = new (description?: string) => Error & { error: string; error_description?: string; status: number };

  export const errors: {
    InvalidClientMetadata: OIDCError;
    InvalidRedirectUri: OIDCError;
    InvalidSoftwareStatement: OIDCError;
    UnapprovedSoftwareStatement: OIDCError;
    InvalidRequest: OIDCError;
  };

  export default Provider;
}
