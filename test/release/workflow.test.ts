import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {repoRoot} from '../helpers/cli.js'

/** The example CI workflow stays parseable and calls keel commands that exist, with flags they accept. */
describe('scripts/ci/github-workflow.yml', () => {
  const workflow = parse(readFileSync(join(repoRoot, 'scripts/ci/github-workflow.yml'), 'utf8')) as {
    on: {push: {branches: string[]; tags: string[]}}
    jobs: Record<string, {if?: string; needs?: string; steps: Array<{run?: string; uses?: string}>}>
  }
  const runs = (job: string) => workflow.jobs[job]!.steps.map((s) => s.run ?? '').join('\n')

  it('builds and tests, publishes to alpha on main, promotes on tags', () => {
    expect(workflow.on.push).toEqual({branches: ['main'], tags: ['beta/*', 'stable/*']})
    expect(runs('build')).toMatch(/npm test[\s\S]*keel build recipes\/base\.yaml -o build\/base/)
    expect(workflow.jobs['publish-alpha']).toMatchObject({needs: 'build', if: "github.ref == 'refs/heads/main'"})
    expect(runs('publish-alpha')).toMatch(/keel release publish build\/base --channel alpha[\s\S]*keel release verify releases/)
    expect(workflow.jobs.promote!.if).toBe("github.ref_type == 'tag'")
    expect(runs('promote')).toMatch(/keel release promote[\s\S]*keel release verify releases --key keys\/release-key\.pub\.asc/)
  })

  it('names only release subcommands and flags that keel has', async () => {
    const all = Object.keys(workflow.jobs).map(runs).join('\n')
    const calls = [...all.matchAll(/keel release (\w+)([^\n]*)/g)]
    expect(calls.length).toBeGreaterThanOrEqual(5)
    for (const [, sub, rest] of calls) {
      const file = join(repoRoot, 'src/commands/release', `${sub}.ts`)
      expect(existsSync(file), sub).toBe(true)
      const source = readFileSync(file, 'utf8')
      for (const [, flag] of (rest ?? '').matchAll(/--([\w-]+)/g)) {
        if (flag === 'json') continue
        expect(source.includes(`${flag}: `) || source.includes(`'${flag}': `), `${sub} --${flag}`).toBe(true)
      }
    }
  })
})
