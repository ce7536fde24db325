import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@trektribe/common';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { STORAGE_NAME } from './file-type';

/**
 * Payment proofs on local disk under `<DATA_DIR>/uploads/proofs`, owner-only, each under a random
 * name we choose (never the client's), so nothing a client sends reaches a path.
 */
@Injectable()
export class ProofStorage {
  private readonly logger = new Logger(ProofStorage.name);
  readonly dir: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.dir = join(config.dataDir, 'uploads', 'proofs');
  }

  /** Writes the bytes under a fresh random name (never overwriting) and returns that name. */
  async save(bytes: Buffer, ext: string): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const name = `${randomBytes(16).toString('hex')}.${ext}`;
    await writeFile(this.pathOf(name), bytes, { mode: 0o600, flag: 'wx' });
    return name;
  }

  /** Best effort: a failed removal is logged, never thrown over the error that caused it. */
  async remove(name: string): Promise<void> {
    try {
      await rm(this.pathOf(name), { force: true });
    } catch (err) {
      this.logger.error({ err, name }, 'could not remove a stored payment proof');
    }
  }

  /** Opens a stored proof for reading; undefined when the file is gone. */
  async open(name: string): Promise<{ handle: FileHandle; size: number } | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(name), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      return { handle, size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  pathOf(name: string): string {
    if (!STORAGE_NAME.test(name)) throw new Error(`not a stored proof name: ${name}`);
    return join(this.dir, name);
  }
}
