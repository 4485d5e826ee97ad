import {type Diagnostic, error} from '../core/diagnostics.js'
import {KeelError} from '../core/errors.js'
import type {Location} from '../core/source.js'
import {formatCompression, parseCompression} from '../fsimage/registry.js'
import {DEFAULT_USR_FILESYSTEM, USR_FILESYSTEMS, type UsrFilesystemName} from '../fsimage/usr.js'
import type {UsrChoice} from './types.js'

/** One recipe file's `usr:` section, each value with where it was written. */
export interface UsrLayer {
  filesystem?: UsrFilesystemName
  compression?: string
  locations?: {filesystem?: Location; compression?: Location}
}

/**
 * The /usr image choice from recipe layers, earliest first, and a located error for each compression its
 * filesystem does not offer. The rule: a compression stays while the filesystem stays; a layer naming another
 * filesystem without a compression takes that filesystem's default (the earlier compression was for another
 * format). Each layer's compression is checked against the filesystem in effect at that layer.
 */
export function mergeUsr(layers: ReadonlyArray<{usr: UsrLayer}>): {usr: UsrChoice; diagnostics: Diagnostic[]} {
  const diagnostics: Diagnostic[] = []
  let filesystem = DEFAULT_USR_FILESYSTEM
  let filesystemLocation: Location | undefined
  let compression: string | undefined
  for (const {usr} of layers) {
    if (usr.filesystem !== undefined) {
      if (usr.filesystem !== filesystem) compression = undefined
      filesystem = usr.filesystem
      filesystemLocation = usr.locations?.filesystem
    }
    if (usr.compression === undefined) continue
    const problem = compressionProblem(filesystem, usr.compression)
    if (problem) {
      const chosen = filesystemLocation
        ? {message: `the /usr filesystem ${filesystem} is chosen here`, location: filesystemLocation}
        : {message: `${filesystem} is the default /usr filesystem; usr.filesystem chooses another (${USR_FILESYSTEMS.join(', ')})`}
      diagnostics.push(error(problem, usr.locations?.compression, [chosen]))
    } else {
      compression = usr.compression
    }
  }
  return {usr: {filesystem, compression: formatCompression(parseCompression(filesystem, compression))}, diagnostics}
}

/**
 * `keel build --usr-filesystem/--usr-compression` over the recipe's choice, by the same rule as a later recipe
 * layer. Invalid values are usage errors naming the registry's choices.
 */
export function overrideUsr(recipe: UsrChoice, flags: {filesystem?: string; compression?: string}): UsrChoice {
  let {filesystem, compression}: {filesystem: UsrFilesystemName; compression: string | undefined} = recipe
  if (flags.filesystem !== undefined) {
    const named = USR_FILESYSTEMS.find((n) => n === flags.filesystem)
    if (!named) throw new KeelError(`--usr-filesystem ${flags.filesystem}: /usr cannot be ${flags.filesystem}`, 'usage', `choose one of: ${USR_FILESYSTEMS.join(', ')}`)
    if (named !== filesystem) compression = undefined
    filesystem = named
  }
  if (flags.compression !== undefined) {
    const problem = compressionProblem(filesystem, flags.compression)
    if (problem) throw new KeelError(`--usr-compression ${flags.compression}: ${problem}`, 'usage')
    compression = flags.compression
  }
  return {filesystem, compression: formatCompression(parseCompression(filesystem, compression))}
}

/** The registry's objection to a compression for a filesystem, with what is allowed; undefined when valid. */
function compressionProblem(filesystem: UsrFilesystemName, compression: string): string | undefined {
  try {
    parseCompression(filesystem, compression)
    return undefined
  } catch (err) {
    if (!(err instanceof KeelError)) throw err
    return err.hint ? `${err.message}; ${err.hint}` : err.message
  }
}
