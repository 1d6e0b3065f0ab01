import { randomBytes } from 'node:crypto';
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type Condition,
  conditionHolds,
  type Item,
  type ItemStore,
} from './items.js';

/** A lock older than this is taken to belong to a process that died. */
const STALE_LOCK_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/**
 * Items as JSON files in a folder, one file per item. Writes go to a
 * temporary file that is renamed over the old one, so a reader never sees a
 * half-written item, and conditional writes hold an exclusive lock file, so
 * two local runs at once cannot both win.
 */
export class FileItemStore implements ItemStore {
  constructor(private readonly root: string) {}

  async get(pk: string, sk: string): Promise<Item | undefined> {
    return readItem(this.itemPath(pk, sk));
  }

  async put(item: Item, condition?: Condition): Promise<boolean> {
    const path = this.itemPath(item.pk, item.sk);
    await mkdir(this.partitionPath(item.pk), { recursive: true });

    return this.locked(path, async () => {
      if (!conditionHolds(condition, await readItem(path))) return false;
      const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temporary, JSON.stringify(item), { flush: true });
      await rename(temporary, path);
      return true;
    });
  }

  async delete(
    pk: string,
    sk: string,
    condition?: Condition,
  ): Promise<boolean> {
    const path = this.itemPath(pk, sk);
    await mkdir(this.partitionPath(pk), { recursive: true });

    return this.locked(path, async () => {
      const current = await readItem(path);
      if (!conditionHolds(condition, current)) return false;
      await rm(path, { force: true });
      return true;
    });
  }

  async query(
    pk: string,
    prefix: string,
    options: { limit?: number; descending?: boolean } = {},
  ): Promise<Item[]> {
    let names: string[];
    try {
      names = await readdir(this.partitionPath(pk));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const keys = names
      .filter((name) => name.endsWith('.json'))
      .map((name) => decodeURIComponent(name.slice(0, -'.json'.length)))
      .filter((sk) => sk.startsWith(prefix))
      .sort();
    if (options.descending) keys.reverse();
    const selected =
      options.limit === undefined ? keys : keys.slice(0, options.limit);
    const items = await Promise.all(
      selected.map((sk) => readItem(this.itemPath(pk, sk))),
    );

    return items.filter((item): item is Item => item !== undefined);
  }

  private partitionPath(pk: string): string {
    return join(this.root, encodeURIComponent(pk));
  }

  private itemPath(pk: string, sk: string): string {
    return join(this.partitionPath(pk), `${encodeURIComponent(sk)}.json`);
  }

  private async locked<T>(path: string, work: () => Promise<T>): Promise<T> {
    const lockPath = `${path}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        await breakStaleLock(lockPath);
        if (Date.now() > deadline) {
          throw new Error(
            `timed out waiting for the state lock ${lockPath}; remove it if no budget-guard process is running`,
          );
        }
        await delay(Math.min(5 * 2 ** attempt, 100) + Math.random() * 5);
      }
    }
    try {
      return await work();
    } finally {
      await rm(lockPath, { force: true });
    }
  }
}

async function readItem(path: string): Promise<Item | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Item;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function breakStaleLock(lockPath: string): Promise<void> {
  try {
    const info = await stat(lockPath);
    if (Date.now() - info.mtimeMs > STALE_LOCK_MS)
      await rm(lockPath, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
