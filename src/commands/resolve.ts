import {Args, Flags} from '@oclif/core'
import {KeelCommand} from '../cli/base-command.js'
import {cacheFrom, packageFlags} from '../cli/flags.js'
import {recipeUniverse} from '../packages/lock-recipe.js'
import {resolve} from '../packages/resolve.js'
import {adhocRecipe} from '../recipe/adhoc.js'

type ResolveResult = Array<{name: string; version: string}>

export default class Resolve extends KeelCommand<ResolveResult> {
  static override description = `Print the dependency closure of packages, as apt would install them (no Recommends)

One "name version" per line, sorted by name; --json prints [{name, version}].`
  static override examples = ['<%= config.bin %> resolve --suite bookworm --arch amd64 openssh-server', '<%= config.bin %> resolve --suite bookworm,bookworm-updates --json podman']
  static override strict = false
  static override args = {packages: Args.string({description: 'package names (name or name=version)', required: true})}
  static override flags = {
    ...packageFlags,
    suite: Flags.string({description: 'suite(s), comma-separated', default: 'bookworm'}),
    component: Flags.string({description: 'component(s), comma-separated', default: 'main'}),
    arch: Flags.string({description: 'architecture', default: 'amd64'}),
    essential: Flags.boolean({description: "also add Debian's Essential: yes set, as an image needs", default: false}),
  }

  protected async execute(): Promise<ResolveResult> {
    const {argv, flags} = await this.parse(Resolve)
    const names = (argv as string[]).filter((a) => !a.startsWith('-'))
    const recipe = adhocRecipe({
      architecture: flags.arch,
      suites: flags.suite.split(','),
      components: flags.component.split(','),
      packages: names,
      essential: flags.essential,
    })
    const universe = await this.steps.step('Loading signed package indexes', (reporter) =>
      recipeUniverse(recipe, {cache: cacheFrom(flags), mirror: flags.mirror, offline: flags.offline, reporter}),
    )
    const resolution = resolve(universe, recipe.packages, {exclude: [], essential: flags.essential})
    return [...resolution.packages, ...resolution.added.map((a) => a.pkg)]
      .map((p) => ({name: p.name, version: p.version}))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  protected renderText(r: ResolveResult): string {
    return r.map((p) => `${p.name} ${p.version}`).join('\n')
  }
}
