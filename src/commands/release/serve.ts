import {Args, Flags} from '@oclif/core'
import {stat} from 'node:fs/promises'
import {KeelCommand} from '../../cli/base-command.js'
import {KeelError} from '../../core/errors.js'
import {serveTree} from '../../release/serve.js'

interface ServeResult {
  url: string
  root: string
}

export default class ReleaseServe extends KeelCommand<ServeResult> {
  static override description = `Serve a release tree read-only over HTTP on localhost, for tests and booted images

Prints the base URL, then serves until interrupted. Files only: no listings, no hidden names, nothing outside the tree.`
  static override examples = ['<%= config.bin %> release serve releases --port 8080']
  static override args = {releases: Args.string({description: 'release tree', required: true})}
  static override flags = {
    port: Flags.integer({description: 'TCP port (0: any free port)', default: 8080, min: 0, max: 65535}),
    host: Flags.string({description: 'address to listen on', default: '127.0.0.1'}),
  }

  protected async execute(): Promise<ServeResult> {
    const {args, flags} = await this.parse(ReleaseServe)
    if (!(await stat(args.releases).then((s) => s.isDirectory(), () => false))) throw new KeelError(`${args.releases} is not a directory`, 'input')
    const server = await serveTree(args.releases, flags.port, flags.host)
    const stop = () => void server.close().then(() => process.exit(0))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    // The result is printed as soon as the server listens; the open socket keeps the process running.
    return {url: server.url, root: args.releases}
  }

  protected renderText(r: ServeResult): string {
    return r.url
  }
}
