// After `npm install`: generate the Prisma client (offline), and — where dev dependencies are
// installed — build tap's plugin set from package.json, so the first `npm test` on a fresh clone
// already runs TypeScript through tsx instead of tap's bundled ts-node (which cannot load TS 7).
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

execFileSync(process.execPath, ['scripts/generate.mjs'], { stdio: 'inherit' })
if (existsSync('node_modules/tap/package.json')) {
  execFileSync(process.execPath, ['node_modules/tap/dist/esm/run.mjs', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] })
}
