import { startAuthorisationServer, type AuthorisationServer, type AuthorisationServerOptions } from './authorisation-server.js';
import { freePort, loopbackLookup, obtainCertificate, type DataHolder, type DirectoryEndpoints, type KeyAndCertificate } from './ecosystem.js';
import { startResourceServer, type ResourceServer } from './resource-server.js';

/**
 * A bank (data holder) in the ecosystem: its FAPI 2.0 authorisation server and its accounts API, both serving TLS
 * with certificates the directory CA issued to the bank's software (transport certificates with DNS names, which the
 * directory grants only to active data holders), both accepting only client certificates from the same CA. The AS
 * is then published in the directory (`/participants`), where fintechs find it.
 */

export interface BankOptions {
  directory: DirectoryEndpoints;
  holder: DataHolder;
  /** DNS name of the authorisation server. Default `auth.bank.localhost`. */
  authHost?: string;
  /** DNS name of the resource server. Default `api.bank.localhost`. */
  apiHost?: string;
  /** Passed to the AS (see AuthorisationServerOptions). */
  certificateCacheMs?: number;
  verifier?: AuthorisationServerOptions['verifier'];
  /** Told what the AS and the RS checked (the demo prints it). */
  log?: { as?: (message: string) => void; rs?: (message: string) => void };
}

export interface Bank {
  as: AuthorisationServer;
  rs: ResourceServer;
  asCertificate: KeyAndCertificate;
  rsCertificate: KeyAndCertificate;
  /** The directory's record of the AS (`POST /organisations/{orgId}/authorisation-servers`). */
  registration: Record<string, unknown>;
  close(): Promise<void>;
}

export async function startBank(options: BankOptions): Promise<Bank> {
  const { directory, holder } = options;
  const authHost = options.authHost ?? 'auth.bank.localhost';
  const apiHost = options.apiHost ?? 'api.bank.localhost';
  const softwareId = holder.software.software_id;
  const asCertificate = await obtainCertificate(holder.api, softwareId, 'transport', { dnsNames: [authHost] });
  const rsCertificate = await obtainCertificate(holder.api, softwareId, 'transport', { dnsNames: [apiHost] });

  // The resource indicator (RFC 8707) names the RS, so its URL is fixed before the AS starts.
  const rsPort = await freePort();
  const resourceServer = `https://${apiHost}:${rsPort}/`;
  const as = await startAuthorisationServer({
    directoryIssuer: directory.issuer,
    caBundlePem: directory.caPem,
    serverKeyPem: asCertificate.keyPem,
    serverCertPem: asCertificate.certPem,
    hostname: authHost,
    checkStatus: true,
    checkOcsp: true,
    resourceServer,
    // The directory's keystores (client jwks_uri) are on 127.0.0.1 here; oidc-provider refuses loopback otherwise.
    allowPrivateNetworkFetch: true,
    ...(options.certificateCacheMs !== undefined ? { certificateCacheMs: options.certificateCacheMs } : {}),
    ...(options.verifier ? { verifier: options.verifier } : {}),
    ...(options.log?.as ? { log: options.log.as } : {}),
  });
  let rs: ResourceServer | undefined;
  try {
    rs = await startResourceServer({
      authorisationServer: as,
      caBundlePem: directory.caPem,
      serverKeyPem: rsCertificate.keyPem,
      serverCertPem: rsCertificate.certPem,
      port: rsPort,
      hostname: apiHost,
      lookup: loopbackLookup,
      ...(options.log?.rs ? { log: options.log.rs } : {}),
    });
    const registration = await holder.api.call('POST', `/organisations/${holder.api.orgId}/authorisation-servers`, {
      json: {
        issuer: as.issuer,
        discovery_url: `${as.issuer}/.well-known/openid-configuration`,
        customer_friendly_name: holder.organisation.legal_name,
        api_resources: [{ family: 'accounts', version: '1.0', base_url: rs.url }],
      },
    });
    const started = rs;
    return {
      as, rs: started, asCertificate, rsCertificate, registration,
      close: async () => { await Promise.all([started.close(), as.close()]); },
    };
  } catch (error) {
    await Promise.all([rs?.close(), as.close()]);
    throw error;
  }
}
