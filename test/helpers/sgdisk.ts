import {run} from '../../src/exec/run.js'

/** One partition as the oracle sgdisk reads it (`sgdisk -i N DISK`): GUIDs lower-case, attributes in hex. */
export interface SgdiskInfo {
  typeGuid: string
  guid: string
  first: number
  last: number
  attributes: string
  name: string
}

export async function sgdiskInfo(disk: string, index: number): Promise<SgdiskInfo> {
  const out = (await run('sgdisk', ['-i', String(index), disk])).stdout
  const field = (re: RegExp) => re.exec(out)?.[1] ?? `(missing in: ${out})`
  return {
    typeGuid: field(/^Partition GUID code: (\S+)/m).toLowerCase(),
    guid: field(/^Partition unique GUID: (\S+)/m).toLowerCase(),
    first: Number(field(/^First sector: (\d+)/m)),
    last: Number(field(/^Last sector: (\d+)/m)),
    attributes: field(/^Attribute flags: ([0-9A-Fa-f]+)/m).toLowerCase(),
    name: field(/^Partition name: '(.*)'$/m),
  }
}
