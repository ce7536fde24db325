import { resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const lib = (name: string) => resolve(import.meta.dirname, `libs/${name}/src`);

export default defineConfig({
  // swc keeps decorator metadata, which Nest's dependency injection needs (esbuild drops it).
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: {
      '@trektribe/common': lib('common'),
      '@trektribe/auth': lib('auth'),
      '@trektribe/booking': lib('booking'),
      '@trektribe/billing': lib('billing'),
      '@trektribe/notifications': lib('notifications'),
      '@trektribe/support': lib('support'),
      '@trektribe/reporting': lib('reporting'),
    },
  },
  test: {
    include: [
      'test/**/*.e2e-spec.ts',
      'test/medium/**/*.medium-spec.ts',
      'libs/**/*.spec.ts',
      'apps/**/*.spec.ts',
    ],
    // Specs that need a Redis or PostgreSQL server by nature join the run only when one is configured.
    exclude: [
      '**/node_modules/**',
      ...(process.env.REDIS_URL ? [] : ['test/**/*.redis.e2e-spec.ts']),
      ...(process.env.DATABASE_URL ? [] : ['test/**/*.server.e2e-spec.ts']),
    ],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
