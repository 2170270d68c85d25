import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { bindMigrationAwareSqlAdapterFactory, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg'

type SchemaEngine = bindings.SchemaEngine

let loaded: Promise<void> | undefined

// Node has WebAssembly; the ES lib typings do not describe it (they live in the DOM lib).
const wasmApi = (globalThis as unknown as {
  WebAssembly: { instantiate: (bytes: Uint8Array, imports: object) => Promise<{ instance: { exports: unknown } }> }
}).WebAssembly

// The package entry does `import * as wasm from "./schema_engine_bg.wasm"`, which Node refuses:
// instantiate the module ourselves and hand its exports to the wasm-bindgen glue, once per process.
function loadWasm (): Promise<void> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url)
    const glue = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')
    const bytes = await readFile(glue.replace(/\.js$/, '.wasm'))
    // The engine arms timeouts it never clears (a 10 s race around each query): unref them so a
    // finished migration does not hold the process open.
    const imports: Record<string, unknown> = { ...bindings }
    for (const name of Object.keys(imports).filter((n) => n.startsWith('__wbg_setTimeout_'))) {
      imports[name] = (fn: () => void, ms: number) => setTimeout(fn, ms >>> 0).unref()
    }
    const { instance } = await wasmApi.instantiate(bytes, { './schema_engine_bg.js': imports })
    const exports = instance.exports as Record<string, unknown> & { __wbindgen_start: () => void }
    bindings.__wbg_set_wasm(exports)
    exports.__wbindgen_start()
  })()
  return loaded
}

export interface OpenSchemaEngine {
  engine: SchemaEngine
  /** Frees the engine and disposes the connections it opened (freeing alone leaves them open). */
  close: () => Promise<void>
}

/** A schema engine bound to one database through its driver adapter factory. */
export async function openSchemaEngine (factory: SqlMigrationAwareDriverAdapterFactory, schema: string): Promise<OpenSchemaEngine> {
  await loadWasm()
  const opened: SqlDriverAdapter[] = []
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => { const a = await factory.connect(); opened.push(a); return a },
    connectToShadowDb: async () => { const a = await factory.connectToShadowDb(); opened.push(a); return a },
  }
  const engine = await bindings.SchemaEngine.new(
    { datamodels: [['schema.prisma', schema]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(tracked),
  )
  return {
    engine,
    close: async () => {
      engine.free()
      await Promise.all(opened.map((a) => a.dispose().catch(() => {})))
    },
  }
}
