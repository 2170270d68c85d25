import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { App } from '../app.js'
import { NotFound } from '../errors.js'

// Built by `npm run build` (scripts/build-portal.mjs). src/portal and dist/portal are both two levels
// below the project root, so this path holds whether the server runs from source or from dist.
export const assetsDir = join(import.meta.dirname, '../../dist/portal-assets')

const files: Record<string, { file: string, type: string }> = {
  'portal.js': { file: 'portal.js', type: 'text/javascript; charset=utf-8' },
  'portal.css': { file: 'portal-style.css', type: 'text/css; charset=utf-8' },
}

export default async function assets (app: App): Promise<void> {
  const cache = new Map<string, Buffer>()
  app.get('/portal/assets/:name', { schema: { hide: true } }, async (request, reply) => {
    const { name } = request.params as { name: string }
    const entry = files[name]
    if (!entry) throw NotFound()
    let body = cache.get(name)
    if (!body) {
      try { body = await readFile(join(assetsDir, entry.file)) } catch { throw NotFound(`${name} is not built: run npm run build`) }
      cache.set(name, body)
    }
    return reply.type(entry.type).header('cache-control', 'no-cache').send(body)
  })
}
