// Seeds a registry at scale for the benchmarks: N organisations (default 10 000) with roles, 3 software
// statements each and 2 certificates per software statement (transport + signing), written directly through
// Prisma in batches, one transaction per batch (organisations and roles with createMany; software statements
// and certificates with one INSERT … SELECT FROM unnest(…) each, which is 5–6× faster than createMany for
// them on PGlite), then one bump of the 'registry' counter so every running instance rebuilds its documents.
//
//   npx tsx scripts/seed.ts [--organisations 10000] [--software 3] [--certificates 2] [--batch 500]
//
// The database is the directory's own (loadConfig: DATABASE_URL, or PGlite under DATA_DIR); migrations are
// applied first. With PGlite, stop the directory before seeding: the embedded database has one owner.
//
// The certificates reuse a few DERs issued once by a throwaway CA, each row with its own random serial and
// x5t#S256: only the registry documents (/participants and its filters) are measured on this data, and they
// never open a certificate. The keystores (/organisations/{id}/jwks) of seeded organisations therefore show
// certificates whose subject, serial and thumbprint do not match the row, and that do not chain to the
// directory's CA; do not benchmark or test certificate validation on seeded data. No audit events are written.
import { randomBytes, randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { loadConfig } from '../src/config.js'
import { openDatabase, targetFrom, type Database } from '../src/db/database.js'
import { applyMigrations } from '../src/db/migrations.js'
import { createIssuer, issueCertificate, newSerial } from '../src/pki/certificate.js'
import { generateKeyPair, spkiOf } from '../src/pki/keys.js'
import { bumpRegistryVersion } from '../src/registry/deps.js'

export interface SeedOptions {
  organisations: number
  softwarePerOrganisation: number
  certificatesPerSoftware: number
  /** Organisations per transaction (with their roles, software and certificates). */
  batch: number
  /** Role codes to hand out (the configured ROLES). */
  roles: string[]
  progress?: (message: string) => void
}

export interface SeedReport {
  organisations: number
  roles: number
  softwareStatements: number
  certificates: number
  seconds: number
  registryVersion: string
}

const countries = ['GB', 'IE', 'NL', 'DE', 'FR', 'ES', 'BR', 'AU']
const day = 86_400_000

/** A handful of real certificate DERs (transport and signing) from a throwaway P-256 CA: see the header. */
function sampleDers (): { transport: string[], signing: string[] } {
  const now = Date.now()
  const ca = generateKeyPair('ec-p256')
  const caDer = issueCertificate({
    serial: newSerial(), subject: [{ type: 'O', value: 'Seed' }, { type: 'CN', value: 'Seed throwaway CA' }], publicKey: spkiOf(ca.publicKey),
    notBefore: new Date(now - 60_000), notAfter: new Date(now + 3650 * day), profile: 'root-ca',
  }, { selfSigned: ca.privateKey })
  const issuer = createIssuer(caDer, ca.privateKey)
  const make = (profile: 'transport' | 'signing', i: number): Buffer => {
    const id = randomUUID()
    return issueCertificate({
      serial: newSerial(), publicKey: spkiOf(generateKeyPair('ec-p256').publicKey),
      subject: [{ type: 'C', value: 'GB' }, { type: 'O', value: `Seed sample ${i}` }, { type: 'organizationIdentifier', value: id }, { type: 'UID', value: id }, { type: 'CN', value: id }],
      notBefore: new Date(now - 60_000), notAfter: new Date(now + 397 * day), profile,
    }, issuer)
  }
  // base64, as the batch INSERT decodes them.
  return { transport: [0, 1, 2, 3].map((i) => make('transport', i).toString('base64')), signing: [0, 1, 2, 3].map((i) => make('signing', i).toString('base64')) }
}

export async function seed (db: Database, o: SeedOptions): Promise<SeedReport> {
  if (o.roles.length === 0) throw new Error('seed: no roles configured')
  const started = performance.now()
  const prisma = db.prisma
  const ders = sampleDers()
  // Registration numbers are unique per country: a run tag lets the script add to an already seeded registry.
  const run = randomBytes(3).toString('hex')
  const now = Date.now()
  const notBefore = new Date(now - 60_000)
  const notAfter = new Date(now + 397 * day)
  const totals = { organisations: 0, roles: 0, softwareStatements: 0, certificates: 0 }

  for (let first = 0; first < o.organisations; first += o.batch) {
    const count = Math.min(o.batch, o.organisations - first)
    const orgs: Array<{ id: string, legalName: string, registrationNumber: string, country: string, status: 'active' | 'pending' | 'suspended' }> = []
    const roles: Array<{ organisationId: string, role: string, status: 'active' | 'inactive' }> = []
    const software: Array<{ id: string, organisationId: string, clientName: string, clientDescription: string, clientUri: string, redirectUri: string, role: string, mode: 'live' | 'test' }> = []
    const certificates: Array<{ serial: string, type: 'transport' | 'signing', organisationId: string, softwareStatementId: string, der: string, x5tS256: string, notBefore: Date, notAfter: Date }> = []
    for (let n = first; n < first + count; n++) {
      const id = randomUUID()
      // Mostly active, some pending and suspended, so ?status= filters have something to do.
      const status = n % 20 === 7 ? 'suspended' : n % 20 === 13 ? 'pending' : 'active'
      orgs.push({ id, legalName: `Seeded Organisation ${n} Ltd`, registrationNumber: `SEED-${run}-${String(n).padStart(6, '0')}`, country: countries[n % countries.length]!, status })
      // Every organisation has the first role; every third a second one; every fifth a third.
      const mine = o.roles.filter((_, i) => i === 0 || (i === 1 && n % 3 === 0) || (i === 2 && n % 5 === 0))
      for (const role of mine) roles.push({ organisationId: id, role, status: 'active' })
      for (let s = 0; s < o.softwarePerOrganisation; s++) {
        const softwareId = randomUUID()
        software.push({
          id: softwareId, organisationId: id, clientName: `Seeded App ${n}-${s}`, clientDescription: `Seeded software statement ${s} of organisation ${n}`,
          clientUri: `https://org${n}.example/app${s}`, redirectUri: `https://org${n}.example/app${s}/callback`, role: mine[s % mine.length]!, mode: 'live',
        })
        for (let c = 0; c < o.certificatesPerSoftware; c++) {
          const type = c % 2 === 0 ? 'transport' : 'signing'
          const pool = ders[type]
          certificates.push({
            serial: newSerial().toString('hex'), type, organisationId: id, softwareStatementId: softwareId,
            der: pool[(n + s + c) % pool.length]!, x5tS256: randomBytes(32).toString('base64url'), notBefore, notAfter,
          })
        }
      }
    }
    await prisma.$transaction(async (tx) => {
      await tx.organisation.createMany({ data: orgs })
      await tx.organisationRole.createMany({ data: roles })
      // The two large tables go in as one INSERT … SELECT FROM unnest(column arrays) each: on PGlite,
      // createMany of these rows (bytea, arrays) measured 5–6× slower than this, for the same rows.
      await tx.$executeRawUnsafe(
        `INSERT INTO software_statements (id, organisation_id, client_name, client_description, client_uri, redirect_uris, roles, mode, updated_at)
         SELECT id, org, name, description, uri, ARRAY[redirect], ARRAY[role], mode::"SoftwareMode", now()
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS u(id, org, name, description, uri, redirect, role, mode)`,
        software.map((r) => r.id), software.map((r) => r.organisationId), software.map((r) => r.clientName), software.map((r) => r.clientDescription),
        software.map((r) => r.clientUri), software.map((r) => r.redirectUri), software.map((r) => r.role), software.map((r) => r.mode))
      await tx.$executeRawUnsafe(
        `INSERT INTO certificates (serial, type, organisation_id, software_statement_id, der, x5t_s256, not_before, not_after)
         SELECT serial, type::"CertificateType", org, sw, decode(der, 'base64'), x5t, nb, na
         FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[]) AS u(serial, type, org, sw, der, x5t, nb, na)`,
        certificates.map((r) => r.serial), certificates.map((r) => r.type), certificates.map((r) => r.organisationId), certificates.map((r) => r.softwareStatementId),
        certificates.map((r) => r.der), certificates.map((r) => r.x5tS256), certificates.map((r) => r.notBefore), certificates.map((r) => r.notAfter))
    }, { timeout: 300_000 })
    totals.organisations += orgs.length
    totals.roles += roles.length
    totals.softwareStatements += software.length
    totals.certificates += certificates.length
    o.progress?.(`seeded ${totals.organisations}/${o.organisations} organisations (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  }
  await bumpRegistryVersion(prisma as never)
  const counter = await prisma.counter.findUnique({ where: { name: 'registry' } })
  return { ...totals, seconds: Math.round(performance.now() - started) / 1000, registryVersion: String(counter?.value ?? 0n) }
}

function intFlag (args: string[], name: string, fallback: number): number {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i < 0) return fallback
  const raw = args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1]
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`)
  return n
}

async function main (): Promise<void> {
  const args = process.argv.slice(2)
  const config = loadConfig()
  const options: SeedOptions = {
    organisations: intFlag(args, 'organisations', 10_000),
    softwarePerOrganisation: intFlag(args, 'software', 3),
    certificatesPerSoftware: intFlag(args, 'certificates', 2),
    batch: Math.max(1, intFlag(args, 'batch', 500)),
    roles: Object.keys(config.ROLES),
    progress: (m) => process.stderr.write(`\r${m}`),
  }
  const db = await openDatabase(targetFrom(config))
  try {
    await applyMigrations(db)
    const report = await seed(db, options)
    process.stderr.write('\n')
    const rows = report.organisations + report.roles + report.softwareStatements + report.certificates
    console.log(`seeded ${report.organisations} organisations, ${report.roles} roles, ${report.softwareStatements} software statements and ` +
      `${report.certificates} certificates in ${report.seconds} s (${Math.round(rows / report.seconds)} rows/s) into ${db.kind === 'postgres' ? 'PostgreSQL' : `PGlite in ${config.DATA_DIR}`}; registry version ${report.registryVersion}`)
  } finally {
    await db.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1) })
}
