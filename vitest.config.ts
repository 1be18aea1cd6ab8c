import { defineConfig } from 'vitest/config';

// Tests run against real servers (testing/helpers/global-setup.ts starts InfluxDB 1.x and
// VictoriaMetrics once per run); forks keep each file's child processes in its own process.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['testing/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
