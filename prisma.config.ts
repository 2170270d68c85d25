import { defineConfig } from 'prisma/config'

// The CLI is used for `prisma generate` only: migrations run through the schema engine's
// WebAssembly build (src/db/migrations.ts), because the native engine cannot be downloaded offline.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
})
