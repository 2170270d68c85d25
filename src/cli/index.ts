#!/usr/bin/env node
// Operator CLI: `directory <command>` (npm run directory -- <command>). Commands act on the database
// directly. With the embedded PGlite only one process can hold DATA_DIR: while the server runs, data commands
// refuse (naming it) — use the admin API through operator:token, or stop the server first.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { Actor } from '../audit/audit-log.js'
import { systemClock } from '../clock.js'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { openDatabase, targetFrom, type Database } from '../db/database.js'
import { applyMigrations, createMigration } from '../db/migrations.js'
import { initDirectory } from '../init.js'
import { KeyVault } from '../keys/vault.js'
import { loadMasterKey, masterKeyFrom } from '../keys/master-key.js'
import { AuditLog } from '../audit/audit-log.js'
import { importAuthority } from '../pki/ca-store.js'
import { revocationReasons, type RevocationReason } from '../pki/reasons.js'
import { organisationCreate } from '../registry/schemas.js'
import { invitation } from '../portal/users.js'
import { createServices, type Services } from '../services.js'
import { DirectoryClient } from '@ecosystem-directory/sdk'

type Command = { help: string, run: (args: string[]) => Promise<void> }
const who: Actor = { actor: `cli:${process.env.USER ?? 'operator'}` }
const print = (v: unknown): void => { console.log(typeof v === 'string' ? v : JSON.stringify(v, null, 2)) }

async function withDatabase<T> (fn: (db: Database, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const db = await openDatabase(targetFrom(config))
  try {
    await applyMigrations(db)
    return await fn(db, config)
  } finally {
    await db.close()
  }
}

async function withServices<T> (fn: (s: Services) => Promise<T>): Promise<T> {
  return withDatabase(async (db, config) => {
    const s = await createServices(config, db, systemClock)
    try { return await fn(s) } finally { s.close() }
  })
}

function options<const T extends NonNullable<ParseArgsConfig['options']>> (args: string[], spec: T) {
  return parseArgs({ args, options: spec, allowPositionals: true, strict: true })
}

const commands: Record<string, Command> = {
  init: {
    help: 'create the CA, the directory signing keys and the operator credentials (idempotent)\n' +
      '               init --import-issuing-cert F --import-issuing-key F --import-root-cert F [--import-root-key F]   bring an existing CA\n' +
      '               (with the root key the directory publishes the root CRL and answers OCSP about the issuing CA)',
    run: async (args) => {
      const { values } = options(args, { 'import-issuing-cert': { type: 'string' }, 'import-issuing-key': { type: 'string' }, 'import-root-cert': { type: 'string' }, 'import-root-key': { type: 'string' } })
      await withDatabase(async (db, config) => {
        if (values['import-issuing-cert']) {
          if (!values['import-issuing-key'] || !values['import-root-cert']) throw new ConfigError('import needs --import-issuing-cert, --import-issuing-key and --import-root-cert')
          const vault = new KeyVault(await loadMasterKey(config, db.prisma))
          await importAuthority({ prisma: db.prisma, vault, audit: new AuditLog(systemClock), clock: systemClock, config }, {
            issuingCertPem: await readFile(values['import-issuing-cert'], 'utf8'),
            issuingKeyPem: await readFile(values['import-issuing-key'], 'utf8'),
            rootCertPem: await readFile(values['import-root-cert'], 'utf8'),
            rootKeyPem: values['import-root-key'] ? await readFile(values['import-root-key'], 'utf8') : undefined,
          }, who)
          print('imported the issuing CA')
        }
        const report = await initDirectory(config, db, systemClock, who)
        for (const m of report.messages) print(m)
        if (!report.changed) print('nothing to do: the directory is initialised')
      })
    },
  },
  migrate: {
    help: 'apply pending migrations from prisma/migrations',
    run: async () => {
      const config = loadConfig()
      const db = await openDatabase(targetFrom(config))
      try {
        const applied = await applyMigrations(db)
        print(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date')
      } finally { await db.close() }
    },
  },
  migration: {
    help: 'migration <name>: write the next migration from the difference between the migrations and prisma/schema.prisma',
    run: async ([name]) => {
      if (!name) throw new ConfigError('usage: migration <name>')
      const folder = await createMigration(name)
      print(folder ? `wrote prisma/migrations/${folder}/migration.sql` : 'no schema changes: nothing written')
    },
  },
  'org:create': {
    help: 'org:create --name N --registration R --country CC [--role R ...] [--active]',
    run: async (args) => {
      const { values } = options(args, { name: { type: 'string' }, registration: { type: 'string' }, country: { type: 'string' }, role: { type: 'string', multiple: true }, active: { type: 'boolean' } })
      const input = organisationCreate.safeParse({ legal_name: values.name, registration_number: values.registration, country: values.country, roles: values.role ?? [], status: values.active ? 'active' : 'pending' })
      if (!input.success) throw new ConfigError(input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
      await withServices(async (s) => print(await s.organisations.create(input.data, who)))
    },
  },
  'org:list': {
    help: 'org:list [--status S] [--role R]',
    run: async (args) => {
      const { values } = options(args, { status: { type: 'string' }, role: { type: 'string' } })
      await withServices(async (s) => print((await s.organisations.list({ limit: 500, ...(values.status ? { status: values.status as never } : {}), ...(values.role ? { role: values.role } : {}) })).organisations))
    },
  },
  'org:status': {
    help: 'org:status <orgId> <pending|active|suspended|revoked|withdrawn>',
    run: async ([orgId, status]) => {
      if (!orgId || !status) throw new ConfigError('usage: org:status <orgId> <status>')
      await withServices(async (s) => print(await s.organisations.update(orgId, { status: status as never }, who)))
    },
  },
  'user:invite': {
    help: 'user:invite --email E --role operator-admin|operator-auditor|org-admin|org-viewer [--org ORG_ID] [--name N]:\n' +
      '               prints a one-time portal setup link (valid PORTAL_SETUP_LINK_TTL seconds)',
    run: async (args) => {
      const { values } = options(args, { email: { type: 'string' }, role: { type: 'string' }, org: { type: 'string' }, name: { type: 'string' } })
      const scope = values.role?.startsWith('org-') ? 'organisation' : 'operator'
      const input = invitation.safeParse({ scope, email: values.email, role: values.role, ...(values.org ? { org_id: values.org } : {}), ...(values.name ? { name: values.name } : {}) })
      if (!input.success) throw new ConfigError(input.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; '))
      await withServices(async (s) => {
        const link = await s.portal.users.invite(input.data, who)
        print(`setup link for ${input.data.email} (${input.data.role}), valid until ${link.expires_at.toISOString()}, usable once:\n${link.setup_url}`)
      })
    },
  },
  'enrolment-code': {
    help: 'enrolment-code <orgId>: a one-time code for the organisation to enrol with (shown once)',
    run: async ([orgId]) => {
      if (!orgId) throw new ConfigError('usage: enrolment-code <orgId>')
      await withServices(async (s) => print(await s.enrolment.createCode(orgId, who)))
    },
  },
  'cert:issue': {
    help: 'cert:issue --org O [--software S] --type transport|signing --csr FILE [--dns NAME ...]: prints the certificate and chain (PEM)',
    run: async (args) => {
      const { values } = options(args, { org: { type: 'string' }, software: { type: 'string' }, type: { type: 'string' }, csr: { type: 'string' }, dns: { type: 'string', multiple: true } })
      if (!values.org || !values.csr || (values.type !== 'transport' && values.type !== 'signing')) {
        throw new ConfigError('usage: cert:issue --org O [--software S] --type transport|signing --csr FILE')
      }
      const csr = await readFile(values.csr)
      await withServices(async (s) => {
        // Without a software statement the certificate is the organisation's own (UID/CN = org id).
        const out = await s.authority.issue({ orgId: values.org!, softwareId: values.software, subjectId: values.org, type: values.type as 'transport', csr, dnsNames: values.dns }, who)
        console.error(`serial ${out.serial}  x5t#S256 ${out['x5t#S256']}  valid until ${out.not_after.toISOString()}`)
        process.stdout.write(out.certificate + out.chain.join(''))
      })
    },
  },
  'cert:revoke': {
    help: `cert:revoke <serial> <reason>: reasons ${revocationReasons.join(', ')}`,
    run: async ([serial, reason]) => {
      if (!serial || !revocationReasons.includes(reason as RevocationReason)) throw new ConfigError(`usage: cert:revoke <serial> <${revocationReasons.join('|')}>`)
      await withServices(async (s) => { const c = await s.authority.revoke(serial, reason as RevocationReason, who); print({ serial: c.serial, status: c.status }) })
    },
  },
  'keys:rotate': {
    help: 'keys:rotate: promote the next directory signing key; the old one stays published for KEY_OVERLAP_SECONDS',
    run: async () => { await withServices(async (s) => print(await s.keys.rotate(who))) },
  },
  'master-key:rotate': {
    help: 'master-key:rotate: rewrap every stored key under NEW_DIRECTORY_MASTER_KEY (base64, 32 bytes), in one transaction',
    run: async () => {
      const fresh = process.env.NEW_DIRECTORY_MASTER_KEY
      if (!fresh || Buffer.from(fresh, 'base64').length !== 32) throw new ConfigError('NEW_DIRECTORY_MASTER_KEY must be 32 bytes, base64-encoded')
      await withDatabase(async (db, config) => {
        const current = new KeyVault(await loadMasterKey(config, db.prisma))
        const next = new KeyVault(masterKeyFrom(Buffer.from(fresh, 'base64')))
        const count = await db.prisma.$transaction(async (tx) => {
          const rows = await tx.encryptedKey.findMany()
          for (const row of rows) {
            const { id, ...sealed } = current.rewrap(row, next)
            await tx.encryptedKey.update({ where: { id }, data: sealed })
          }
          await new AuditLog(systemClock).append(tx, who, { action: 'master_key.rotate', target: 'encrypted_keys', before: { master_key_id: current.masterKeyId }, after: { master_key_id: next.masterKeyId, keys: rows.length } })
          return rows.length
        })
        print(`rewrapped ${count} keys under master key ${next.masterKeyId}: now set DIRECTORY_MASTER_KEY (or DATA_DIR/master.key) to the new key before the next start`)
      })
    },
  },
  'operator:token': {
    help: 'operator:token [--scope S]: an access token from the running directory, with DATA_DIR/operator/ credentials\n' +
      '               (curl --cert DATA_DIR/operator/transport.pem --key …/transport.key --cacert …/ca.pem -H "authorization: Bearer $TOKEN" …)',
    run: async (args) => {
      const { values } = options(args, { scope: { type: 'string' } })
      const config = loadConfig()
      const dir = join(config.DATA_DIR, 'operator')
      const client = JSON.parse(await readFile(join(dir, 'client.json'), 'utf8'))
      // The URLs of the configuration in force now, not those written at first start (ports and issuer may change).
      const directory = new DirectoryClient({
        issuer: config.DIRECTORY_ISSUER, mtlsBaseUrl: config.MTLS_BASE_URL, clientId: client.client_id, orgId: client.org_id,
        signingKey: await readFile(join(dir, 'signing.key'), 'utf8'), signingKid: client.signing_kid,
        transportKeyPem: await readFile(join(dir, 'transport.key'), 'utf8'), transportCertPem: await readFile(join(dir, 'transport.pem'), 'utf8'),
        caPem: await readFile(join(dir, 'ca.pem'), 'utf8'),
      })
      try { print(await directory.getAccessToken(values.scope ?? 'directory:admin')) } finally { await directory.close() }
    },
  },
  'audit:verify': {
    help: 'audit:verify: recompute the audit hash chain; exit 1 if any event was edited or deleted',
    run: async () => {
      await withDatabase(async (db) => {
        const result = await new AuditLog(systemClock).verify(db.prisma)
        print(result)
        if (!result.ok) process.exitCode = 1
      })
    },
  },
  'audit:list': {
    help: 'audit:list [--limit N]',
    run: async (args) => {
      const { values } = options(args, { limit: { type: 'string' } })
      await withDatabase(async (db) => print(await new AuditLog(systemClock).list(db.prisma, { limit: Number(values.limit ?? 50) })))
    },
  },
}

function usage (): string {
  return 'usage: directory <command>\n' + Object.entries(commands).map(([n, c]) => `  ${n.padEnd(14)} ${c.help}`).join('\n')
}

const [name, ...args] = process.argv.slice(2)
const command = name ? commands[name] : undefined
if (!command) {
  console.error(usage())
  process.exit(name ? 2 : 0)
}
command.run(args).catch((err: unknown) => {
  const e = err as { detail?: string, message?: string }
  console.error(e.detail ?? e.message ?? String(err))
  process.exit(err instanceof ConfigError ? 2 : 1)
})
