/* Migration CLI: `npm run migration:generate -- Name | migration:run | migration:revert | migration:check`. */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@trektribe/common';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source';
import { startEmbeddedPostgres } from './embedded-postgres';
import { runMigrations } from './migrate';

const log = new Logger('migrations');

function migrationSource(name: string, timestamp: number, up: string[], down: string[]): string {
  const q = (s: string) => '        await queryRunner.query(`' + s.replace(/`/g, '\\`') + '`);';
  return `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${name}${timestamp} implements MigrationInterface {
    name = '${name}${timestamp}';

    public async up(queryRunner: QueryRunner): Promise<void> {
${up.map(q).join('\n')}
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
${down.map(q).join('\n')}
    }
}
`;
}

async function main(): Promise<number> {
  const [command, name] = process.argv.slice(2);
  const config = loadConfig();
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, 5);
  const ds = new DataSource(
    dataSourceOptions(config.databaseUrl ?? embedded!.url, { poolSize: embedded ? 1 : 2 }),
  );
  await ds.initialize();
  try {
    switch (command) {
      case 'migration:run': {
        // The same advisory lock as the app's start: safe while instances are starting.
        const ran = await runMigrations(ds, { embedded: Boolean(embedded), logger: log });
        if (!ran.length) log.log('no pending migrations');
        return 0;
      }
      case 'migration:revert':
        await ds.undoLastMigration({ transaction: 'each' });
        log.log('reverted the last migration');
        return 0;
      case 'migration:generate':
      case 'migration:check': {
        await ds.runMigrations({ transaction: 'each' });
        const sql = await ds.driver.createSchemaBuilder().log();
        const up = sql.upQueries.map((q) => q.query);
        const down = sql.downQueries.map((q) => q.query).reverse();
        if (command === 'migration:check') {
          if (up.length) {
            log.error(
              `entities and migrations have drifted; ${up.length} statement(s) missing:\n${up.join(';\n')}`,
            );
            return 1;
          }
          log.log('entities and migrations agree');
          return 0;
        }
        if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
          log.error('usage: npm run migration:generate -- PascalCaseName');
          return 2;
        }
        if (!up.length) {
          log.log('no changes: nothing to generate');
          return 0;
        }
        const ts = Date.now();
        const file = join('apps/api/src/database/migrations', `${ts}-${name}.ts`);
        writeFileSync(file, migrationSource(name, ts, up, down));
        log.log(`wrote ${file}; add it to migrations/index.ts`);
        return 0;
      }
      default:
        log.error('commands: migration:run | migration:revert | migration:generate Name | migration:check');
        return 2;
    }
  } finally {
    await ds.destroy();
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
