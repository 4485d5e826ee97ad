import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import {basename} from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {sha256File, sha256Hex} from '../core/hashing.js'
import {encodeHeader, padding} from '../rootfs/tar-header.js'
import {TAR_BLOCK, TAR_RECORD, padTo} from './gce.js'
import {writeStreamAtomically} from './stream.js'

/**
 * VMware OVA: a tar whose first member is the OVF descriptor, then the manifest (`SHA256(file)= hex` lines),
 * then the stream-optimized VMDK — the order vSphere reads an OVA in as a stream. The descriptor is OVF 1.0
 * with VMware's extensions for UEFI firmware (keel's disk boots systemd-boot only) and an lsilogic disk.
 */

export interface OvfInput {
  /** The virtual machine's name (image name + version). */
  name: string
  vmdkFile: string
  vmdkSize: number
  /** Virtual disk size in bytes. */
  capacity: number
  cpus?: number
  memoryMiB?: number
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** One rasd:Item; its child elements must be in alphabetical order (the CIM schema is a sequence). */
function item(fields: Record<string, string>): string {
  const lines = Object.keys(fields)
    .sort()
    .map((k) => `        <rasd:${k}>${xmlEscape(fields[k]!)}</rasd:${k}>`)
  return ['      <Item>', ...lines, '      </Item>'].join('\n')
}

/** The OVF descriptor (pure). */
export function ovfDescriptor(o: OvfInput): string {
  const name = xmlEscape(o.name)
  const cpus = o.cpus ?? 2
  const memory = o.memoryMiB ?? 2048
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:href="${xmlEscape(o.vmdkFile)}" ovf:id="file1" ovf:size="${o.vmdkSize}"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="${o.capacity}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The VM Network network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="${name}">
    <Info>A virtual machine</Info>
    <Name>${name}</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="otherLinux64Guest">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>${name}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
${item({AllocationUnits: 'hertz * 10^6', Description: 'Number of Virtual CPUs', ElementName: `${cpus} virtual CPU(s)`, InstanceID: '1', ResourceType: '3', VirtualQuantity: String(cpus)})}
${item({AllocationUnits: 'byte * 2^20', Description: 'Memory Size', ElementName: `${memory}MB of memory`, InstanceID: '2', ResourceType: '4', VirtualQuantity: String(memory)})}
${item({Address: '0', Description: 'SCSI Controller', ElementName: 'SCSI Controller 0', InstanceID: '3', ResourceSubType: 'lsilogic', ResourceType: '6'})}
${item({AddressOnParent: '0', ElementName: 'Hard Disk 1', HostResource: 'ovf:/disk/vmdisk1', InstanceID: '4', Parent: '3', ResourceType: '17'})}
${item({AddressOnParent: '7', AutomaticAllocation: 'true', Connection: 'VM Network', Description: 'VmxNet3 ethernet adapter on "VM Network"', ElementName: 'Ethernet 1', InstanceID: '5', ResourceSubType: 'VmxNet3', ResourceType: '10'})}
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`
}

/** The OVA manifest (pure): one `SHA256(file)= hex` line per file, in archive order. */
export function ovaManifest(files: ReadonlyArray<{name: string; sha256: string}>): string {
  return files.map((f) => `SHA256(${f.name})= ${f.sha256}\n`).join('')
}

function tarHeader(name: string, size: number, mtime: number): Buffer {
  return encodeHeader({name, type: 'file', mode: 0o644, uid: 0, gid: 0, size, mtime})
}

async function* ovaTar(members: ReadonlyArray<{name: string; data?: Buffer; path?: string; size: number}>, mtime: number): AsyncGenerator<Buffer> {
  let written = 0
  for (const m of members) {
    const header = tarHeader(m.name, m.size, mtime)
    yield header
    written += header.length
    if (m.data) yield m.data
    else for await (const chunk of createReadStream(m.path!, {highWaterMark: 1 << 20})) yield chunk as Buffer
    const pad = Buffer.alloc(padding(m.size))
    yield pad
    written += m.size + pad.length
  }
  const tail = 2 * TAR_BLOCK
  written += tail
  yield Buffer.alloc(tail + padTo(written, TAR_RECORD))
}

/** Write `<out>.ova` from a stream-optimized VMDK: descriptor and manifest are made here, the VMDK streamed in. */
export async function writeOva(vmdk: string, out: string, o: {name: string; capacity: number; mtime: number; ovfName: string}): Promise<{ovf: string; manifest: string}> {
  const vmdkName = basename(vmdk)
  const vmdkSize = (await stat(vmdk)).size
  const ovf = ovfDescriptor({name: o.name, vmdkFile: vmdkName, vmdkSize, capacity: o.capacity})
  const ovfBytes = Buffer.from(ovf, 'utf8')
  const mfName = o.ovfName.replace(/\.ovf$/, '.mf')
  const manifest = ovaManifest([
    {name: o.ovfName, sha256: sha256Hex(ovfBytes)},
    {name: vmdkName, sha256: (await sha256File(vmdk)).sha256},
  ])
  const mfBytes = Buffer.from(manifest, 'utf8')
  const members = [
    {name: o.ovfName, data: ovfBytes, size: ovfBytes.length},
    {name: mfName, data: mfBytes, size: mfBytes.length},
    {name: vmdkName, path: vmdk, size: vmdkSize},
  ]
  await writeStreamAtomically(out, (sink) => pipeline(Readable.from(ovaTar(members, o.mtime)), sink))
  return {ovf, manifest}
}
