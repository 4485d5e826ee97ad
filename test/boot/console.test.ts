import {describe, expect, it} from 'vitest'
import {cleanConsoleLine, consoleTail, failureIn, LineSplitter, lineMatches} from '../../src/boot/console.js'

describe('console lines', () => {
  it('splits a growing log into complete lines and keeps the unfinished one', () => {
    const s = new LineSplitter()
    expect(s.push('[    0.1] a\r\n[    0.2] b')).toEqual(['[    0.1] a'])
    expect(s.push('c\nlocalhost login: ')).toEqual(['[    0.2] bc'])
    expect(s.pending()).toBe('localhost login: ')
  })

  it('removes colour and cursor escapes', () => {
    expect(cleanConsoleLine('[\u001b[0;32m  OK  \u001b[0m] Reached target \u001b[0;1;39mMulti-User\u001b[0m.\r')).toBe('[  OK  ] Reached target Multi-User.')
    expect(cleanConsoleLine('\u001b[2J\u001b[01;01H\u001b[=3hBdsDxe: loading')).toBe('BdsDxe: loading')
  })

  it('a string marker must be the whole line: Ignition echoing the unit text does not count', () => {
    const marker = 'KEEL-BOOT-MARKER-OK'
    expect(lineMatches(`[   24.1] ignition[198]:   "contents": "ExecStart=/bin/sh -c 'echo ${marker} > /dev/ttyS0'"`, marker)).toBe(false)
    expect(lineMatches(`${marker}  `, marker)).toBe(true)
    expect(lineMatches('[ 5.0] foo ready', /ready$/)).toBe(true)
  })

  it('a marker printed after a getty prompt shares the prompt\'s line and still counts', () => {
    expect(lineMatches('localhost login: KEEL-BOOT-MARKER-OK', 'KEEL-BOOT-MARKER-OK')).toBe(true)
    expect(lineMatches('localhost login: KEEL-BOOT-MARKER-OK-NOT', 'KEEL-BOOT-MARKER-OK')).toBe(false)
  })

  it('recognises the lines that end a boot', () => {
    expect(failureIn('You are in emergency mode. After logging in, type "journalctl -xb" to view')).toBe(true)
    expect(failureIn('[    2.0] Kernel panic - not syncing: VFS: Unable to mount root fs')).toBe(true)
    expect(failureIn('[  OK  ] Reached target Emergency Mode.')).toBe(false)
    expect(consoleTail(['a', 'b', 'c'], 2)).toBe('b\nc')
  })
})
