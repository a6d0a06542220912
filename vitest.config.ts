import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', '**/node_modules/**', 'test/fixtures/selection/*/.work/**'],
    // The CLI tests spawn bin/vigil.js, the built JavaScript: rebuild it first when the sources changed.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites start real loopback servers and child processes; two cores are shared.
    pool: 'forks',
    maxWorkers: 2,
  },
})
