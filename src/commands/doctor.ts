import {HOST_TOOLS, findTool, type ToolName} from '../exec/tools.js'
import {toolVersion} from '../exec/run.js'
import {KeelCommand} from '../cli/base-command.js'

interface ToolCheck {
  tool: ToolName
  debianPackage: string
  purpose: string
  path: string | null
  version: string | null
}

interface DoctorResult {
  ok: boolean
  tools: ToolCheck[]
  /** The one command that installs everything missing, or null when nothing is. */
  fix: string | null
}

export default class Doctor extends KeelCommand<DoctorResult> {
  static override description = 'List every host tool keel uses, found or not, and the apt-get line that installs what is missing'

  protected async execute(): Promise<DoctorResult> {
    await this.parse(Doctor)
    const tools = await Promise.all(
      (Object.keys(HOST_TOOLS) as ToolName[]).map(async (tool): Promise<ToolCheck> => {
        const {debianPackage, purpose, versionArgs} = HOST_TOOLS[tool]
        const path = findTool(tool)
        const version = path ? await toolVersion(tool, versionArgs).catch(() => 'unknown') : null
        return {tool, debianPackage, purpose, path, version}
      }),
    )
    const missing = [...new Set(tools.filter((t) => !t.path).map((t) => t.debianPackage))].sort()
    return {ok: missing.length === 0, tools, fix: missing.length ? `apt-get install -y ${missing.join(' ')}` : null}
  }

  protected renderText(r: DoctorResult): string {
    const width = Math.max(...r.tools.map((t) => t.tool.length))
    const lines = r.tools.map(
      (t) => `${t.path ? 'ok     ' : 'MISSING'}  ${t.tool.padEnd(width)}  ${(t.version ?? `(package ${t.debianPackage})`).slice(0, 60).padEnd(60)}  ${t.purpose}`,
    )
    lines.push('', r.fix ? `To fix: ${r.fix}` : 'All host tools are present.')
    return lines.join('\n')
  }
}
