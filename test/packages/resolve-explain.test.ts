import {describe, expect, it} from 'vitest'
import {didYouMean} from '../../src/packages/resolve-explain.js'

describe('didYouMean', () => {
  it('suggests the nearest name, not the alphabetically first of those past the limit', () => {
    // '0install-core' sorts first and is far away; a capped distance must not tie with the real best.
    expect(didYouMean('openssh-servr', ['0install-core', 'openssh-server', 'openssh-client'])).toBe('openssh-server')
    expect(didYouMean('opensh-server', ['openssh-server', 'openssh-sftp-server'])).toBe('openssh-server')
  })

  it('breaks a real tie by name and gives nothing when every name is too far', () => {
    expect(didYouMean('bask', ['bash', 'bass'])).toBe('bash')
    expect(didYouMean('zzzzzz', ['bash', 'coreutils'])).toBeUndefined()
  })
})
