#!/usr/bin/env node
// Operator CLI: `directory <command>`. Each command is a small module; this file only dispatches.
import { ConfigError, loadConfig } from '../config.js'
import { openDatabase, targetFrom } from '../db/database.js'
import { applyMigrations, createMigration } from '../db/migrations.js'

type Command = (args: string[]) => Promise<void>

const commands: Record<string, { help: string, run: Command }> = {
  migrate: {
    help: 'apply pending migrations from prisma/migrations',
    run: async () => {
      const db = await openDatabase(targetFrom(loadConfig()))
      try {
        const applied = await applyMigrations(db)
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date')
      } finally { await db.close() }
    },
  },
  migration: {
    help: 'migration <name>: write a new migration from the difference between the migrations and prisma/schema.prisma',
    run: async ([name]) => {
      if (!name) throw new ConfigError('usage: migration <name>')
      const folder = await createMigration(name)
      console.log(folder ? `wrote prisma/migrations/${folder}/migration.sql` : 'no schema changes: nothing written')
    },
  },
}

export function usage (): string {
  return 'usage: directory <command>\n' + Object.entries(commands).map(([n, c]) => `  ${n.padEnd(12)} ${c.help}`).join('\n')
}

const [name, ...args] = process.argv.slice(2)
const command = name ? commands[name] : undefined
if (!command) {
  console.error(usage())
  process.exit(name ? 2 : 0)
}
command.run(args).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(err instanceof ConfigError ? 2 : 1)
})
