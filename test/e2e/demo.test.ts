import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run demo` stays a working walk-through: it exits 0, prints every step of the flow and the three refusals,
 * and leaves no temporary directory behind. (It always runs on its own PGlite, whatever DATABASE_URL says.)
 */
t.test('npm run demo walks the ecosystem and exits 0', async (t) => {
  const root = join(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/demo/run.ts')], {
    cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr.resume();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 0, out.slice(-2000));
  for (const expected of [
    /embedded PGlite in (\S+)/,
    /fintech → bank AS {2}POST \/reg/,
    /AS checked: SSA verified with the SDK/,
    /fintech → bank RS {2}GET \/accounts/,
    /RS checked: access token accepted/,
    /refused as it should be: HTTP 401 invalid_token/,
    /refused as it should be: HTTP 400 invalid_client_metadata/,
    /refused as it should be: HTTP 400 unapproved_software_statement/,
    /the ecosystem worked end to end in [\d.]+ s/,
  ]) t.match(out, expected);
  const dataDir = /embedded PGlite in (\S+)/.exec(out)?.[1];
  t.ok(dataDir);
  t.notOk(existsSync(dataDir!), 'temporary DATA_DIR removed');
});
