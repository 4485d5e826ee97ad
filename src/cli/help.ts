import {Command, Help} from '@oclif/core'
import {exitCodesHelp} from '../core/exit-codes.js'

/** oclif help plus the stable exit-code table on every page. */
export default class KeelHelp extends Help {
  override formatCommand(command: Command.Loadable): string {
    return `${super.formatCommand(command)}\n\n${exitCodesHelp()}`
  }

  override formatRoot(): string {
    return `${super.formatRoot()}\n\n${exitCodesHelp()}`
  }
}

