import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DirectoryApi, fetchCaBundle, onboardFintech, waitForParticipant } from '../../../scripts/demo/ecosystem.js';
import { buildTestApp, TestClock } from '../../../test/helpers/app.js';

/**
 * The SDK as a vendor gets it: `npm pack` of the workspace, installed into an empty project of its own (dependencies
 * from the npm cache where it has them), then plain Node — no tsx, no workspace, no path mapping — verifies an SSA and
 * a client certificate with OCSP against a running directory, and sees a revocation.
 */

const exec = promisify(execFile);
// Children run as a vendor's would, without the loader tap puts in NODE_OPTIONS of every child it spawns (through
// `env -u`, since tap adds it back to any environment given here).
const run = (command: string, args: string[], options: { cwd: string; timeout: number }) =>
  exec('env', ['-u', 'NODE_OPTIONS', command, ...args], options);
const repo = resolve(import.meta.dirname, '../../..');

// The SDK's clients read the real clock: the directory's keeps pace with it.
const ctx = await buildTestApp(t, {}, { clock: new TestClock(true) });
const directory = { issuer: ctx.publicUrl, mtlsBaseUrl: ctx.mtlsUrl, caPem: await fetchCaBundle(ctx.publicUrl) };
const operator = new DirectoryApi(directory, {
  clientId: ctx.operator.clientId, orgId: ctx.operator.orgId, signingKeyPem: ctx.operator.signingKeyPem,
  signingKid: ctx.operator.signingKid, transportKeyPem: ctx.operator.transportKeyPem, transportCertPem: ctx.operator.transportCertPem,
});
t.teardown(() => operator.close());
const fintech = await onboardFintech(operator, { legalName: 'Packed Fintech Ltd', clientName: 'Packed App', redirectUris: ['https://packed.example/cb'] });
t.teardown(() => fintech.close());
const softwareId = fintech.software.software_id;
await waitForParticipant(directory.issuer, fintech.organisation.id, (p) => p?.software_statements.some((s) => s.software_id === softwareId) ?? false);

const project = t.testdir({});
await run('npm', ['pack', '-w', '@ecosystem-directory/sdk', '--pack-destination', project, '--silent'], { cwd: repo, timeout: 120_000 });
const tarball = readdirSync(project).find((f) => f.endsWith('.tgz'));
if (tarball === undefined) throw new Error('npm pack produced no tarball');
writeFileSync(join(project, 'package.json'), JSON.stringify({
  name: 'sdk-consumer', private: true, type: 'module', dependencies: { '@ecosystem-directory/sdk': `file:./${tarball}` },
}));
await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: project, timeout: 120_000 });

// A vendor's code: plain ES module JavaScript using only the package's public entry point.
writeFileSync(join(project, 'check.mjs'), `
import { readFileSync } from 'node:fs';
import { verifyClientCertificate, verifySoftwareStatement } from '@ecosystem-directory/sdk';
const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = { resolved: import.meta.resolve('@ecosystem-directory/sdk') };
const attempt = async (name, fn) => {
  try { out[name] = await fn(); } catch (error) { out[name] = { error: error.code ?? error.message, reason: error.reason }; }
};
await attempt('ssa', async () => {
  const claims = await verifySoftwareStatement(input.ssa, { issuer: input.issuer });
  return { software_id: claims.software_id, org_id: claims.org_id };
});
await attempt('tampered', () => verifySoftwareStatement(input.tampered, { issuer: input.issuer }));
await attempt('certificate', async () => {
  const result = await verifyClientCertificate(input.certPem, { caBundleUrl: input.issuer + '/pki/ca.pem' });
  return { status: result.status, chain: result.chain.length, x5tS256: result.x5tS256, nextUpdate: Boolean(result.ocsp?.nextUpdate) };
});
console.log(JSON.stringify(out));
`);

async function check(): Promise<Record<string, any>> {
  const ssa = await fintech.api.client.getSoftwareStatementAssertion(softwareId);
  const [h, p, s] = ssa.split('.');
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: `${claims.scope} admin` })).toString('base64url')}.${s}`;
  writeFileSync(join(project, 'input.json'), JSON.stringify({ issuer: directory.issuer, ssa, tampered, certPem: fintech.transport.certPem }));
  const { stdout } = await run(process.execPath, ['check.mjs', 'input.json'], { cwd: project, timeout: 60_000 });
  return JSON.parse(stdout) as Record<string, any>;
}

t.test('the tarball holds the compiled package only, and installs without the server', async (t) => {
  const installed = join(project, 'node_modules', '@ecosystem-directory', 'sdk');
  t.ok(realpathSync(installed).startsWith(realpathSync(project)), 'a copy in the project, not a link to the workspace');
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  t.same(Object.keys(manifest.dependencies).sort(), [
    '@peculiar/asn1-ocsp', '@peculiar/asn1-rsa', '@peculiar/asn1-schema', '@peculiar/asn1-x509', 'asn1js', 'jose', 'undici', 'zod',
  ]);
  t.ok(existsSync(join(installed, 'dist', 'index.js')) && existsSync(join(installed, 'dist', 'index.d.ts')), 'JavaScript and types');
  t.notOk(existsSync(join(installed, 'src')) || existsSync(join(installed, 'test')), 'no sources or tests shipped');
  for (const server of ['fastify', '@prisma/client', '@electric-sql/pglite', 'node-forge', 'fastify-type-provider-zod']) {
    t.notOk(existsSync(join(project, 'node_modules', server)), `${server} is not installed`);
  }
});

t.test('the installed package verifies an SSA and a client certificate (OCSP) against the directory', async (t) => {
  const out = await check();
  t.ok(String(out.resolved).startsWith(`file://${realpathSync(project)}/node_modules/`), `resolved in the project: ${out.resolved}`);
  t.same(out.ssa, { software_id: softwareId, org_id: fintech.organisation.id }, 'SSA verified, status checked by default');
  t.same(out.tampered, { error: 'ERR_SSA_SIGNATURE' }, 'an altered SSA is refused');
  t.match(out.certificate, { status: 'good', chain: 3, x5tS256: fintech.transport.issued['x5t#S256'], nextUpdate: true },
    'OCSP asked by default: good');
});

t.test('after revocation the installed package refuses the certificate', async (t) => {
  await fintech.api.client.revokeCertificate(fintech.transport.issued.serial, 'keyCompromise');
  const out = await check();
  t.same(out.certificate, { error: 'ERR_CERT_REVOKED', reason: 'keyCompromise' });
});
