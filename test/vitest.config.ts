import {fileURLToPath} from 'node:url'
import {defineConfig} from 'vitest/config'

// Tests mirror src/: test/<stage>/<file>.test.ts is a unit test of pure code, *.int.test.ts calls real host
// tools and compares with an oracle (apt, dpkg, gpgv, veritysetup...), *.boot.test.ts starts QEMU.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Integration tests share the package cache and a 2-core machine: two forks at most, generous timeouts
    // for network and unpacking.
    pool: 'forks',
    poolOptions: {forks: {maxForks: 2, minForks: 1}},
    testTimeout: 180_000,
    hookTimeout: 900_000,
  },
})
