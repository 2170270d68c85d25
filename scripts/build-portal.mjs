// Builds the portal's browser code (src/portal/client) into dist/portal-assets with esbuild: one script
// (with @simplewebauthn/browser bundled in) and one stylesheet, served by the directory itself — no CDN.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
export async function buildPortal () {
  await build({
    absWorkingDir: root,
    entryPoints: { portal: 'src/portal/client/portal.ts', 'portal-style': 'src/portal/client/portal.css' },
    outdir: 'dist/portal-assets',
    entryNames: '[name]',
    bundle: true, minify: true, format: 'esm', target: 'es2022', sourcemap: false, logLevel: 'warning',
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildPortal()
