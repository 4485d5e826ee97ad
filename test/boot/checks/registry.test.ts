import {describe, expect, it} from 'vitest'
import {KeelError} from '../../../src/core/errors.js'
import {CHECKS, runOrder, selectChecks} from '../../../src/boot/checks/registry.js'
import type {Check} from '../../../src/boot/checks/types.js'

const fake = (id: number, name: string, needs: Check['needs']): Check => ({id, name, title: name, needs, run: async () => ({status: 'pass', detail: ''})})

describe('the check registry', () => {
  it('has unique ids and kebab-case names, and checks 1-4 of the issue', () => {
    expect(new Set(CHECKS.map((c) => c.id)).size).toBe(CHECKS.length)
    expect(new Set(CHECKS.map((c) => c.name)).size).toBe(CHECKS.length)
    for (const c of CHECKS) expect(c.name).toMatch(/^[a-z][a-z0-9-]*$/)
    expect(CHECKS.filter((c) => c.id <= 4).map((c) => [c.id, c.name])).toEqual([
      [1, 'ignition'],
      [2, 'verity-usr'],
      [3, 'system-running'],
      [4, 'containerd'],
    ])
  })

  it('runs shared-boot checks first, each group by id', () => {
    const table = [fake(6, 'six', 'own-boot'), fake(3, 'three', 'shared-boot'), fake(5, 'five', 'own-boot'), fake(1, 'one', 'shared-boot')]
    expect(runOrder(table).map((c) => c.id)).toEqual([1, 3, 5, 6])
  })

  it('selects by id or name, without duplicates, in run order', () => {
    const table = [fake(1, 'one', 'shared-boot'), fake(2, 'two', 'shared-boot'), fake(5, 'five', 'own-boot')]
    expect(selectChecks('five, 2,two', table).map((c) => c.name)).toEqual(['two', 'five'])
    expect(selectChecks(undefined, table).map((c) => c.id)).toEqual([1, 2, 5])
    expect(selectChecks('', table).map((c) => c.id)).toEqual([1, 2, 5])
  })

  it('refuses unknown checks with a usage error that lists the known ones', () => {
    const table = [fake(1, 'one', 'shared-boot')]
    let err: unknown
    try {
      selectChecks('1,nine,9', table)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(KeelError)
    expect((err as KeelError).exit).toBe('usage')
    expect((err as KeelError).message).toBe('unknown checks: nine, 9')
    expect((err as KeelError).hint).toBe('known checks: 1 one')
  })
})
