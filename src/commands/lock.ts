import {Flags} from '@oclif/core'
import {KeelCommand} from '../cli/base-command.js'
import {cacheFrom, packageFlags, recipeArg} from '../cli/flags.js'
import {lockPathFor, readLockfile, writeLockfile} from '../packages/lock.js'
import {resolveRecipe} from '../packages/lock-recipe.js'
import {loadRecipe} from '../recipe/load.js'

interface LockResult {
  lockfile: string
  changed: boolean
  packages: number
  added: number
  excluded: string[]
  releases: Array<{suite: string; date: string}>
}

export default class Lock extends KeelCommand<LockResult> {
  static override description = "Resolve a recipe against Debian's signed indexes and pin the result in RECIPE.lock.json"
  static override examples = ['<%= config.bin %> lock recipes/base.yaml', '<%= config.bin %> lock recipes/docker.yaml --json']
  static override args = recipeArg
  static override flags = {...packageFlags, output: Flags.string({char: 'o', description: 'lockfile path (default: beside the recipe)'})}

  protected async execute(): Promise<LockResult> {
    const {args, flags} = await this.parse(Lock)
    const {recipe} = this.loadWithWarnings(() => loadRecipe(args.recipe))
    const lock = await this.steps.step(`Resolving ${args.recipe}`, (reporter) =>
      resolveRecipe(recipe, {cache: cacheFrom(flags), mirror: flags.mirror, offline: flags.offline, reporter}),
    )
    const path = flags.output ?? lockPathFor(recipe.file)
    const before = readLockfile(path)
    const changed = JSON.stringify(before) !== JSON.stringify(lock)
    if (changed) await writeLockfile(path, lock)
    return {
      lockfile: path,
      changed,
      packages: lock.packages.length,
      added: lock.added.length,
      excluded: lock.excluded,
      releases: lock.releases.map((r) => ({suite: r.suite, date: r.date})),
    }
  }

  protected renderText(r: LockResult): string {
    const extra = r.added ? ` + ${r.added} essential` : ''
    const excluded = r.excluded.length ? `, excluded: ${r.excluded.join(', ')}` : ''
    return `${r.changed ? 'wrote' : 'unchanged'} ${r.lockfile}: ${r.packages} packages${extra}${excluded}`
  }
}
