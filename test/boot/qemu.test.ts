import {describe, expect, it} from 'vitest'
import {imageFormat, overlayArgs, planQemu} from '../../src/boot/qemu.js'

const after = (argv: string[], flag: string): string[] => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []))

describe('planQemu', () => {
  const tcg = planQemu({runDir: '/run/k', accel: 'tcg', memoryMiB: 2048, cpus: 2, sshPort: 2222, ignition: '/cfg/config.ign', serial: {file: '/run/k/console.log'}})

  it('boots OVMF from read-only code and a private copy of the variables, on the overlay, never the image', () => {
    expect(after(tcg.argv, '-drive')).toEqual([
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd',
      'if=pflash,format=raw,unit=1,file=/run/k/OVMF_VARS.fd',
      'if=virtio,format=qcow2,file=/run/k/overlay.qcow2',
    ])
    expect(tcg.files).toEqual({overlay: '/run/k/overlay.qcow2', vars: '/run/k/OVMF_VARS.fd'})
  })

  it('uses multi-threaded TCG with -cpu max minus the AVX family, or KVM with the host CPU', () => {
    expect(after(tcg.argv, '-accel')).toEqual(['tcg,thread=multi'])
    expect(after(tcg.argv, '-cpu')).toEqual(['max,avx=off,avx2=off,fma=off,f16c=off,vaes=off'])
    const kvm = planQemu({runDir: '/r', accel: 'kvm', memoryMiB: 1024, cpus: 4, serial: 'stdio'})
    expect(after(kvm.argv, '-accel')).toEqual(['kvm'])
    expect(after(kvm.argv, '-cpu')).toEqual(['host'])
    expect(after(kvm.argv, '-smp')).toEqual(['4'])
    expect(after(kvm.argv, '-serial')).toEqual(['stdio'])
  })

  it('hands the Ignition config over fw_cfg, forwards ssh on loopback only, serial to the log with the monitor off', () => {
    expect(after(tcg.argv, '-fw_cfg')).toEqual(['name=opt/com.coreos/config,file=/cfg/config.ign'])
    expect(after(tcg.argv, '-netdev')).toEqual(['user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22'])
    expect(after(tcg.argv, '-serial')).toEqual(['file:/run/k/console.log'])
    expect(after(tcg.argv, '-monitor')).toEqual(['none'])
    expect(tcg.argv).toContain('-nographic')
    expect(after(tcg.argv, '-machine')).toEqual(['q35'])
    expect(after(tcg.argv, '-m')).toEqual(['2048'])
  })

  it("adds the test channel as a second serial port (the guest's ttyS1) after the console", () => {
    const p = planQemu({runDir: '/r', accel: 'tcg', memoryMiB: 512, cpus: 1, serial: {file: '/r/console.log'}, channel: {file: '/r/channel.log'}})
    expect(after(p.argv, '-serial')).toEqual(['file:/r/console.log', 'file:/r/channel.log'])
  })

  it('escapes commas in file names as QEMU options need', () => {
    const p = planQemu({runDir: '/r', accel: 'tcg', memoryMiB: 512, cpus: 1, ignition: '/a,b/c.ign', serial: {file: '/r/log'}})
    expect(after(p.argv, '-fw_cfg')).toEqual(['name=opt/com.coreos/config,file=/a,,b/c.ign'])
    expect(after(p.argv, '-netdev')).toEqual(['user,id=net0'])
  })

  it('refuses too little memory and impossible ports', () => {
    expect(() => planQemu({runDir: '/r', accel: 'tcg', memoryMiB: 128, cpus: 1, serial: 'stdio'})).toThrow(/256/)
    expect(() => planQemu({runDir: '/r', accel: 'tcg', memoryMiB: 512, cpus: 1, sshPort: 70000, serial: 'stdio'})).toThrow(/port/)
  })
})

describe('overlay', () => {
  it('creates a qcow2 overlay backed by the image in its own format', () => {
    expect(overlayArgs('/img/disk.raw', 'raw', '/r/o.qcow2')).toEqual(['create', '-q', '-f', 'qcow2', '-b', '/img/disk.raw', '-F', 'raw', '/r/o.qcow2'])
  })

  it('tells qcow2 from raw by the magic', () => {
    expect(imageFormat(Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]))).toBe('qcow2')
    expect(imageFormat(Buffer.alloc(512))).toBe('raw')
  })
})

describe('disk-less boot media (live systems)', () => {
  const base = {runDir: '/r', accel: 'tcg' as const, memoryMiB: 2048, cpus: 2, serial: {file: '/r/log'}}

  it('boots a kernel and initrd directly, with the command line as given and no disk', () => {
    const p = planQemu({...base, medium: {kernel: '/o/k.vmlinuz', initrd: '/o/k.initrd', append: 'root=tmpfs a=b,c'}})
    expect(after(p.argv, '-kernel')).toEqual(['/o/k.vmlinuz'])
    expect(after(p.argv, '-initrd')).toEqual(['/o/k.initrd'])
    expect(after(p.argv, '-append')).toEqual(['root=tmpfs a=b,c'])
    expect(after(p.argv, '-drive').filter((d) => !d.startsWith('if=pflash'))).toEqual([])
  })

  it('boots an ISO as a read-only CD (commas in its path doubled), no disk', () => {
    const p = planQemu({...base, medium: {cdrom: '/o/a,b.iso'}})
    expect(after(p.argv, '-drive').filter((d) => !d.startsWith('if=pflash'))).toEqual(['if=ide,media=cdrom,readonly=on,format=raw,file=/o/a,,b.iso'])
    expect(p.argv).not.toContain('-kernel')
  })
})
