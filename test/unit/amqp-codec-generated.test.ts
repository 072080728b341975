// methods.generated.ts is committed; this keeps it identical to what the generator makes from the spec.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

t.test('methods.generated.ts matches scripts/gen-amqp-methods.mjs output', async (t) => {
  const run = spawnSync(process.execPath, ['scripts/gen-amqp-methods.mjs', '--check'], { cwd: repoRoot, encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr || run.stdout)
})
