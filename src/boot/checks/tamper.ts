import {open} from 'node:fs/promises'
import {readGpt} from '../../disk/read.js'
import {entryState, parseEntryFileName} from '../entries.js'
import {copySlot, readEspText} from '../slot-install-io.js'
import {SLOT_FALLBACK_TAG} from '../../initramfs/slot-fallback.js'
import {AbSession} from './ab-session.js'
import {verdict} from './facts.js'
import type {Check, CheckContext, CheckOutcome} from './types.js'

/**
 * Check 5, tamper: one byte of USR-A's data is flipped (the erofs superblock's magic, in data block 0), with
 * slot B holding a good copy of the same release ranked below A. The boot of A must fail verification in the
 * initrd, the slot fallback must mark A's entry bad and reboot, and the next boot must come up on B.
 *
 * Boots, on one working copy: (1) first boot of A with the test config (Ignition installs the report unit);
 * then B is installed (copySlot, known good, version below A's) and the byte is flipped; (2) A is chosen and
 * refused; (3) B boots and reports.
 */

/** Offset of the erofs superblock's magic within the filesystem (block 0: dm-verity's data block 0). */
export const EROFS_MAGIC_OFFSET = 1024

export async function flipUsrByte(disk: string, slot: 'A' | 'B', offsetInSlot = EROFS_MAGIC_OFFSET): Promise<{offset: number; was: number}> {
  const {table} = await readGpt(disk)
  const usr = table.partitions.find((p) => p.name === `USR-${slot}`)
  if (!usr) throw new Error(`no USR-${slot} partition`)
  const offset = usr.firstLba * 512 + offsetInSlot
  const fh = await open(disk, 'r+')
  try {
    const b = Buffer.alloc(1)
    await fh.read(b, 0, 1, offset)
    const was = b[0]!
    b[0] = was ^ 0xff
    await fh.write(b, 0, 1, offset)
    await fh.sync()
    return {offset, was}
  } finally {
    await fh.close()
  }
}

export async function runTamper(ctx: Pick<CheckContext, 'image' | 'work' | 'kvm' | 'timeoutS'>): Promise<CheckOutcome> {
  const s = await AbSession.create(ctx, 'tamper')
  const first = await s.boot()
  if (!first.reported) return {status: 'fail', detail: `the first boot (slot A) did not report: ${first.ended} after ${first.seconds} s`}
  const aEntry = (await s.entries()).find((n) => parseEntryFileName(n)?.slot === 'A')!
  const aVersion = /^version\s+(\S+)/m.exec(await readEspText(s.disk, `loader/entries/${aEntry}`))?.[1] ?? '0'
  // B: the previous release, kept as the fallback — good, and ranked below A by its version.
  const b = await copySlot(s.disk, {from: 'A', to: 'B', version: `${aVersion}~previous`})
  const flipped = await flipUsrByte(s.disk, 'A')
  const refused = await s.boot({failFast: false})
  const afterRefusal = await s.entries()
  const third = await s.boot()
  const fallbackLine = refused.lines.find((l) => l.includes(SLOT_FALLBACK_TAG) && l.includes('rebooting')) ?? ''
  const aState = afterRefusal.filter((n) => parseEntryFileName(n)?.slot === 'A').map((n) => `${n}:${entryState(n)}`).join(' ')
  const facts = {
    'flipped-offset': String(flipped.offset),
    'boot2-ended': refused.ended,
    'boot2-fallback': fallbackLine.trim(),
    'entries-after-boot2': afterRefusal.join(' '),
    'boot3-entry': third.facts.entry ?? '',
    'boot3-usr-data': third.facts['usr-data'] ?? '',
    'b-usr-partuuid': b.partitions.usr.guid,
    'boot3-usr-source': third.facts['usr-source'] ?? '',
    boots: s.log.join('; '),
  }
  return verdict(
    [
      {what: 'boot of tampered A ended by the slot fallback rebooting', ok: refused.ended === 'exited' && fallbackLine !== '', saw: `${refused.ended} ${fallbackLine || refused.failureLine || ''}`.trim()},
      {what: "A's entry marked bad", ok: /:bad$/.test(aState), saw: aState},
      {what: 'next boot came up on B', ok: third.reported && (third.facts.entry ?? '').startsWith('keel-b'), saw: third.facts.entry ?? `(no report: ${third.ended})`},
      {what: "B's own /usr partition", ok: third.facts['usr-data'] === b.partitions.usr.guid, saw: third.facts['usr-data'] ?? '', want: b.partitions.usr.guid},
      {what: '/usr through dm-verity', ok: third.facts['usr-source'] === '/dev/mapper/usr', saw: third.facts['usr-source'] ?? '', want: '/dev/mapper/usr'},
    ],
    `A refused after a flipped byte (${refused.seconds} s, marked ${aState.split(':')[0]}), B booted (${third.seconds} s)`,
    facts,
  )
}

export const tamperCheck: Check = {
  id: 5,
  name: 'tamper',
  title: "Tamper: a byte flipped in USR-A's data → A is refused and the machine boots slot B",
  needs: 'own-boot',
  needsDisk: true,
  run: (ctx) => runTamper(ctx),
}
