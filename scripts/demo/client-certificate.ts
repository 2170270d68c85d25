import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { KoaContextWithOIDC } from 'oidc-provider';
import {
  CertificateVerificationError, verifyClientCertificate, x5tS256,
  type ClientCertificateVerification, type FetchOptions,
} from '@ecosystem-directory/sdk';

/** The client certificate of this TLS connection, if the client presented one. */
export function peerCertificate(ctx: { req: { socket: unknown } }): X509Certificate | undefined {
  const socket = ctx.req.socket as Partial<TLSSocket>;
  return typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
}

/**
 * The subject as an RFC 4514 string (most specific RDN first), the form RFC 8705 §2.1.2 uses for
 * `tls_client_auth_subject_dn`. node prints the subject one RDN per line, least specific first, RFC 2253-escaped.
 */
export function subjectDn(cert: X509Certificate): string {
  return cert.subject.split('\n').filter(Boolean).reverse().join(',');
}

/** Values of one subject attribute (`CN`, `UID`, `organizationIdentifier`). */
export function subjectAttribute(cert: X509Certificate, name: string): string[] {
  return cert.subject.split('\n').filter((rdn) => rdn.startsWith(`${name}=`)).map((rdn) => rdn.slice(name.length + 1));
}

export interface ClientCertificateGateOptions extends FetchOptions {
  caBundlePem: string;
  checkOcsp: boolean;
  /** Paths (token, PAR, registration) where a presented certificate must be valid and not revoked. */
  paths: { registration: string; token: string; par: string };
  /** How long a verdict is reused for the same certificate. Default 60 s: OCSP is not asked on every call. */
  cacheMs?: number;
  /** Told each verdict (the demo prints them). */
  log?: (message: string) => void;
}

/**
 * Koa middleware run before oidc-provider's routes: on the token, PAR and registration endpoints, a client
 * certificate must chain to the directory CA and (optionally) not be revoked per OCSP — a revoked certificate must not
 * obtain a client registration, nor tokens bound to it. The verdict is left in `ctx.state.clientCertificate` for the
 * synchronous registration validator. It is async, which oidc-provider's own mTLS hooks are not.
 */
export function clientCertificateGate(options: ClientCertificateGateOptions) {
  const cache = new Map<string, { until: number; result: ClientCertificateVerification }>();
  const cacheMs = options.cacheMs ?? 60_000;
  const refuse = (ctx: KoaContextWithOIDC, registration: boolean, description: string) => {
    options.log?.(`${ctx.path}: ${description}`);
    ctx.status = registration ? 400 : 401;
    ctx.set('cache-control', 'no-store');
    ctx.body = { error: registration ? 'invalid_client_metadata' : 'invalid_client', error_description: description };
  };

  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    const { registration, token, par } = options.paths;
    if (ctx.method !== 'POST' || ![registration, token, par].includes(ctx.path)) {
      await next();
      return;
    }
    const isRegistration = ctx.path === registration;
    const cert = peerCertificate(ctx);
    if (cert === undefined) {
      // Registration binds the client to its directory certificate; elsewhere oidc-provider decides (PAR may be
      // called without one by a private_key_jwt client, the token endpoint then refuses to issue a bound token).
      if (isRegistration) {
        refuse(ctx, true, 'dynamic client registration requires the client\'s directory-issued mTLS certificate');
        return;
      }
      await next();
      return;
    }
    const thumbprint = x5tS256(cert);
    let result = cache.get(thumbprint);
    if (result === undefined || result.until < Date.now()) {
      try {
        const verification = await verifyClientCertificate(cert, {
          caBundlePem: options.caBundlePem,
          checkOcsp: options.checkOcsp,
          ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        });
        if (verification.status === 'unknown') {
          refuse(ctx, isRegistration, 'client certificate refused: the OCSP responder does not know it');
          return;
        }
        result = { until: Date.now() + cacheMs, result: verification };
        cache.set(thumbprint, result);
        options.log?.(`${ctx.path}: client certificate ${subjectAttribute(cert, 'CN')[0] ?? cert.subject} chains to the directory CA; ` +
          `OCSP ${verification.status}${options.checkOcsp ? ' (directory responder, nonce checked)' : ''}`);
      } catch (error) {
        if (!(error instanceof CertificateVerificationError)) throw error;
        refuse(ctx, isRegistration, `client certificate refused: ${error.message} (${error.code})`);
        return;
      }
    } else {
      options.log?.(`${ctx.path}: client certificate ${subjectAttribute(cert, 'CN')[0] ?? cert.subject} — verdict "${result.result.status}" reused ` +
        `(checked within the last ${Math.round(cacheMs / 1000)} s)`);
    }
    ctx.state.clientCertificate = result.result;
    await next();
  };
}
