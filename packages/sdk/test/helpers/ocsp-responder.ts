import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { OCSPRequest } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';

const execFileAsync = promisify(execFile);

/**
 * An OCSP responder on 127.0.0.1 whose answers are made by `openssl ocsp -reqin … -respout …` (an independent RFC 6960
 * implementation) from the test CA's index.txt. The node:http front lets a test choose the signer and damage the
 * exchange in the precise ways the verifier must notice.
 */
export interface OcspResponderControl {
  url: string;
  /** Who signs: the issuing CA itself, a delegated responder, or a certificate without OCSP authority. */
  signer: { certPath: string; keyPath: string };
  /** byKey ResponderID (`-resp_key_id`) instead of byName. */
  byKey: boolean;
  /** Damage to apply: flip the request nonce, alter the signed data, answer garbage or an HTTP error. */
  tamper: 'none' | 'nonce' | 'signed-data' | 'http-500' | 'garbage' | 'try-later' | 'wrong-content-type' | 'drop-nonce' | 'serial' | 'month-13' | 'long-length';
  requests: number;
  close(): Promise<void>;
}

export async function startOcspResponder(options: {
  indexPath: () => string;
  caCertPath: () => string;
  signer?: { certPath: string; keyPath: string };
  workDir: string;
}): Promise<OcspResponderControl> {
  const work = mkdtempSync(join(options.workDir, 'ocsp-'));
  let counter = 0;
  const control: OcspResponderControl = {
    url: '',
    signer: options.signer ?? { certPath: '', keyPath: '' },
    byKey: false,
    tamper: 'none',
    requests: 0,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      control.requests += 1;
      void (async () => {
        let body: Buffer = Buffer.concat(chunks);
        if (control.tamper === 'http-500') {
          res.writeHead(500).end();
          return;
        }
        if (control.tamper === 'garbage') {
          res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.from('not DER at all'));
          return;
        }
        if (control.tamper === 'try-later') {
          // OCSPResponse { responseStatus tryLater(3) } (RFC 6960 §4.2.1)
          res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]));
          return;
        }
        if (control.tamper === 'nonce') {
          // The SDK puts the nonce last in the request: flipping the final byte changes only the nonce.
          body = Buffer.from(body);
          body[body.length - 1] = body[body.length - 1]! ^ 0xff;
        }
        if (control.tamper === 'drop-nonce') {
          // Re-encode the request without its requestExtensions, so openssl has no nonce to echo.
          const request = AsnConvert.parse(body, OCSPRequest);
          delete request.tbsRequest.requestExtensions;
          body = Buffer.from(AsnConvert.serialize(request));
        }
        if (control.tamper === 'serial') {
          // Ask about a neighbouring serial: the answer is well signed and echoes the nonce, but names another CertID.
          const request = AsnConvert.parse(body, OCSPRequest);
          const certId = request.tbsRequest.requestList[0]!.reqCert;
          const serial = new Uint8Array(certId.serialNumber.slice(0));
          serial[serial.length - 1] = serial[serial.length - 1]! ^ 0x01;
          certId.serialNumber = serial.buffer;
          body = Buffer.from(AsnConvert.serialize(request));
        }
        counter += 1;
        const reqPath = join(work, `req-${counter}.der`);
        const respPath = join(work, `resp-${counter}.der`);
        writeFileSync(reqPath, body);
        await execFileAsync('openssl', [
          'ocsp', '-index', options.indexPath(), '-CA', options.caCertPath(),
          '-rsigner', control.signer.certPath, '-rkey', control.signer.keyPath, '-rmd', 'sha256',
          '-reqin', reqPath, '-respout', respPath, '-ndays', '1',
          ...(control.byKey ? ['-resp_key_id'] : []),
        ]);
        let response: Buffer = readFileSync(respPath);
        if (control.tamper === 'signed-data') {
          // producedAt is the first GeneralizedTime (tag 0x18, length 15) in the response; change its seconds digit.
          const at = response.indexOf(Buffer.from([0x18, 0x0f]));
          response = Buffer.from(response);
          const digit = at + 2 + 13;
          response[digit] = response[digit] === 0x30 ? 0x31 : 0x30;
        }
        if (control.tamper === 'month-13') {
          // producedAt's month digits become 13: a time the Date type would roll over into January.
          const at = response.indexOf(Buffer.from([0x18, 0x0f]));
          response = Buffer.from(response);
          response.write('13', at + 2 + 4, 'latin1');
        }
        if (control.tamper === 'long-length') {
          // The outer SEQUENCE's length in a longer form than needed (BER, not DER); nothing signed changes.
          if (response[1] !== 0x82) throw new Error('expected a two-octet length');
          response = Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), response.subarray(2)]);
        }
        res.writeHead(200, {
          'content-type': control.tamper === 'wrong-content-type' ? 'text/plain' : 'application/ocsp-response',
        }).end(response);
      })().catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  control.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pki/ocsp`;
  return control;
}
