import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from '@trektribe/common';
import { createApp } from './bootstrap';
import { bootSummary } from './observability/boot-summary';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const started = Date.now();
  const running = await createApp(config);
  await running.app.listen(config.port);
  const log = new Logger('main');
  log.log(bootSummary(config, Date.now() - started));

  // Graceful shutdown: stop accepting, finish in-flight requests, close the pool, then the embedded DB.
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.log(`${signal} received: shutting down`);
    const force = setTimeout(() => process.exit(1), 15_000).unref();
    running.close().then(
      () => {
        clearTimeout(force);
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
