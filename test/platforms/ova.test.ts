import {describe, expect, it} from 'vitest'
import {ovaManifest, ovfDescriptor} from '../../src/platforms/ova.js'

describe('ovfDescriptor', () => {
  const ovf = ovfDescriptor({name: 'keel-0.1.0', vmdkFile: 'keel-0.1.0-vmware.vmdk', vmdkSize: 123456, capacity: 7_784_628_224})

  it('references the VMDK with its size and declares a stream-optimized disk of the virtual size', () => {
    expect(ovf).toContain('<File ovf:href="keel-0.1.0-vmware.vmdk" ovf:id="file1" ovf:size="123456"/>')
    expect(ovf).toContain('ovf:capacity="7784628224" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1"')
    expect(ovf).toContain('ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"')
  })

  it('attaches the disk to an lsilogic controller and boots UEFI firmware', () => {
    expect(ovf).toMatch(/<rasd:HostResource>ovf:\/disk\/vmdisk1<\/rasd:HostResource>\s*<rasd:InstanceID>4<\/rasd:InstanceID>\s*<rasd:Parent>3<\/rasd:Parent>/)
    expect(ovf).toMatch(/<rasd:InstanceID>3<\/rasd:InstanceID>\s*<rasd:ResourceSubType>lsilogic<\/rasd:ResourceSubType>\s*<rasd:ResourceType>6<\/rasd:ResourceType>/)
    expect(ovf).toContain('<vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>')
  })

  it('keeps every rasd:Item\'s elements in alphabetical order (the CIM schema is a sequence)', () => {
    for (const block of ovf.split('<Item>').slice(1)) {
      const names = [...block.split('</Item>')[0]!.matchAll(/<rasd:(\w+)>/g)].map((m) => m[1]!)
      expect(names).toEqual([...names].sort())
    }
  })

  it('escapes XML in names', () => {
    expect(ovfDescriptor({name: 'a<b&"c"', vmdkFile: 'x.vmdk', vmdkSize: 1, capacity: 512})).toContain('<Name>a&lt;b&amp;&quot;c&quot;</Name>')
  })
})

describe('ovaManifest', () => {
  it('has one SHA256(file)= line per member, in order', () => {
    const sha = 'ab'.repeat(32)
    expect(ovaManifest([{name: 'a.ovf', sha256: sha}, {name: 'a.vmdk', sha256: sha}])).toBe(`SHA256(a.ovf)= ${sha}\nSHA256(a.vmdk)= ${sha}\n`)
  })
})
