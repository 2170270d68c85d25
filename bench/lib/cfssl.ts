// CloudFlare's cfssl (Debian package `golang-cfssl`) as the reference CA: `cfssl gencert -initca` with the
// same key type as our issuing CA, then `cfssl serve` on 127.0.0.1, signing at POST /api/v1/cfssl/sign.
// No -db-config: cfssl stores nothing, so its rate is signing over HTTP without a database write.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { request } from 'undici'
import { freePort, sleep } from './common.js'
import type { CsrKey } from './participant.js'

const run = promisify(execFile)

export interface RunningCfssl {
  url: string
  version: string
  child: ChildProcess
  stop: () => Promise<void>
}

export async function cfsslVersion (): Promise<string | undefined> {
  try {
    const { stdout } = await run('cfssl', ['version'])
    return /Version:\s*(\S+)/.exec(stdout)?.[1] ?? stdout.trim()
  } catch { return undefined }
}

export async function startCfssl (key: CsrKey, probeCsr: string): Promise<RunningCfssl> {
  const version = await cfsslVersion()
  if (!version) throw new Error('cfssl is not installed (apt-get install -y golang-cfssl)')
  const dir = await mkdtemp(join(tmpdir(), 'bench-cfssl-'))
  const csrJson = { CN: 'Bench cfssl Issuing CA', key: key === 'rsa-2048' ? { algo: 'rsa', size: 2048 } : { algo: 'ecdsa', size: 256 } }
  await writeFile(join(dir, 'ca-csr.json'), JSON.stringify(csrJson))
  const { stdout } = await run('cfssl', ['gencert', '-initca', join(dir, 'ca-csr.json')], { maxBuffer: 1 << 20 })
  const ca = JSON.parse(stdout) as { cert: string, key: string }
  await writeFile(join(dir, 'ca.pem'), ca.cert)
  await writeFile(join(dir, 'ca-key.pem'), ca.key, { mode: 0o600 })
  const port = await freePort()
  // loglevel 3 (ERROR): cfssl logs every signature at INFO; our directory runs with request logs off too.
  const child = spawn('cfssl', ['serve', '-address', '127.0.0.1', '-port', String(port), '-ca', join(dir, 'ca.pem'), '-ca-key', join(dir, 'ca-key.pem'), '-loglevel', '3'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-5000) })
  let exited = false
  child.once('exit', () => { exited = true })
  const stop = async (): Promise<void> => {
    if (!exited) {
      const done = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await done
    }
    await rm(dir, { recursive: true, force: true })
  }
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (exited || i > 100) { await stop(); throw new Error(`cfssl serve did not start: ${stderr}`) }
    try {
      const res = await request(`${url}/api/v1/cfssl/sign`, { method: 'POST', body: JSON.stringify({ certificate_request: probeCsr }) })
      const body = await res.body.json() as { success?: boolean }
      if (res.statusCode === 200 && body.success) break
      await stop()
      throw new Error(`cfssl sign failed: ${res.statusCode} ${JSON.stringify(body)}`)
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('cfssl sign failed')) throw e
      await sleep(100)
    }
  }
  return { url, version, child, stop }
}
