import {describe, expect, it} from 'vitest'
import {bundleText, parseCaConf, pemLinkName, renumberHashLinks, selectCertificates} from '../../../src/rootfs/fixups/ca-certificates.js'

describe('CA selection and bundle', () => {
  const available = ['mozilla/b.crt', 'mozilla/a.crt', 'mozilla/C.crt', 'other/z.crt']

  it('takes every certificate, bytewise sorted, when the conf lists none', () => {
    expect(selectCertificates(available, undefined)).toEqual(['mozilla/C.crt', 'mozilla/a.crt', 'mozilla/b.crt', 'other/z.crt'])
    expect(selectCertificates(available, parseCaConf('# only comments\n!mozilla/a.crt\n'))).toEqual(['mozilla/C.crt', 'mozilla/b.crt', 'other/z.crt'])
  })

  it('takes exactly the listed ones otherwise, dropping those not shipped', () => {
    const conf = parseCaConf('# header\nmozilla/b.crt\n!mozilla/a.crt\nmozilla/gone.crt\nother/z.crt\n')
    expect(conf).toEqual({selected: ['mozilla/b.crt', 'mozilla/gone.crt', 'other/z.crt'], deselected: ['mozilla/a.crt']})
    expect(selectCertificates(available, conf)).toEqual(['mozilla/b.crt', 'other/z.crt'])
    // update-ca-certificates reads the conf line by line: its order is the bundle's order.
    expect(selectCertificates(available, parseCaConf('other/z.crt\nmozilla/a.crt\nother/z.crt\n'))).toEqual(['other/z.crt', 'mozilla/a.crt'])
  })

  it('concatenates PEMs newline-terminated and names .pem links like update-ca-certificates', () => {
    expect(bundleText(['A\n', 'B', 'C\n'])).toBe('A\nB\nC\n')
    expect(pemLinkName('usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt')).toBe('ISRG_Root_X1.pem')
    expect(pemLinkName('/x/My CA (test), 2.crt')).toBe('My_CA_=test=__2.pem')
  })

  it('renumbers hash collisions in link-name order, whatever order openssl used', () => {
    expect(renumberHashLinks([
      {hashName: 'aaaa0000.0', target: 'Z.pem'},
      {hashName: 'aaaa0000.1', target: 'B.pem'},
      {hashName: '0000ffff.0', target: 'Q.pem'},
    ])).toEqual([
      {name: '0000ffff.0', target: 'Q.pem'},
      {name: 'aaaa0000.0', target: 'B.pem'},
      {name: 'aaaa0000.1', target: 'Z.pem'},
    ])
  })
})
