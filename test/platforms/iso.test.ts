import {describe, expect, it} from 'vitest'
import {SYSTEMD_BOOT_EFI} from '../../src/boot/cmdline.js'
import {isoTimestamp, isoVolumeId, liveEspFiles, liveEspSize, planXorriso} from '../../src/platforms/iso.js'

describe('ISO identity', () => {
  it('makes a volume id of ISO 9660 d-characters, at most 32', () => {
    expect(isoVolumeId({name: 'keel', version: '0.1.0'})).toBe('KEEL_0_1_0_LIVE')
    expect(isoVolumeId({name: 'a-very-long-image-name', version: '2026.11.22-rc1'})).toBe('A_VERY_LONG_IMAGE_NAME_2026_11_2')
  })

  it('writes the epoch as xorriso\'s YYYYMMDDhhmmsscc in GMT', () => {
    expect(isoTimestamp(0)).toBe('1970010100000000')
    expect(isoTimestamp(1700000000)).toBe('2023111422132000')
  })
})

describe('planXorriso', () => {
  const argv = planXorriso({out: '/o/x.iso', root: '/s/root', volumeId: 'KEEL_0_1_0_LIVE', epoch: 1700000000, diskGuid: '6f1c0b2e-0000-4000-8000-000000000001'})
  const after = (flag: string, n = 1) => argv.slice(argv.indexOf(flag) + 1, argv.indexOf(flag) + 1 + n)
  const bootSpecs = argv.flatMap((a, i) => (a === '-boot_image' ? [`${argv[i + 1]} ${argv[i + 2]}`] : []))

  it('pins every date to the epoch and the GPT GUID to the given one', () => {
    expect(argv[0]).toBe('-no_rc')
    expect(after('-outdev')).toEqual(['/o/x.iso'])
    expect(after('-volid')).toEqual(['KEEL_0_1_0_LIVE'])
    expect(argv.join(' ')).toContain('-volume_date uuid 2023111422132000')
    expect(argv.join(' ')).toContain('-volume_date all_file_dates =1700000000')
    expect(after('-iso_nowtime')).toEqual(['=1700000000'])
    expect(bootSpecs).toContain('any gpt_disk_guid=6f1c0b2e-0000-4000-8000-000000000001')
  })

  it('boots by UEFI El Torito from the FAT image and exposes it as the ESP behind a protective MBR', () => {
    expect(after('-map', 2)).toEqual(['/s/root', '/'])
    expect(bootSpecs).toEqual(expect.arrayContaining(['any efi_path=/efi.img', 'any platform_id=0xef', 'any efi_boot_part=--efi-boot-image', 'any part_like_isohybrid=on', 'any iso_mbr_part_type=0xee']))
  })
})

describe('the ISO\'s FAT image', () => {
  it('holds systemd-boot, a loader.conf choosing the one live entry, the kernel and the initrd', () => {
    const files = liveEspFiles({kernel: '/k', initrd: '/i', cmdline: 'root=tmpfs ignition.firstboot', title: 'keel 0.1.0 (live)', version: '0.1.0'})
    expect(Object.keys(files).sort()).toEqual(['EFI/BOOT/BOOTX64.EFI', 'keel/initrd', 'keel/vmlinuz', 'loader/entries/keel-live.conf', 'loader/loader.conf'])
    expect(files['EFI/BOOT/BOOTX64.EFI']).toEqual({hostPath: SYSTEMD_BOOT_EFI})
    expect(files['loader/loader.conf']!.content).toMatch(/^default keel-live\.conf\ntimeout 0\n/)
    expect(files['loader/entries/keel-live.conf']!.content).toBe(
      'title keel 0.1.0 (live)\nversion 0.1.0\nlinux /keel/vmlinuz\ninitrd /keel/initrd\noptions root=tmpfs ignition.firstboot\n',
    )
  })

  it('is sized for its files plus FAT overhead, in whole MiB', () => {
    const MiB = 1024 * 1024
    expect(liveEspSize([14 * MiB, 124 * MiB])).toBe(147 * MiB) // 138 MiB × 1.03 + 4 MiB = 146.14 → 147
    expect(liveEspSize([1]) % MiB).toBe(0)
  })
})
