/**
 * State files on this machine, in-process: the same guarantees as the state dir's shell scripts (a new
 * file written beside its name, fsynced, renamed over it, the directory fsynced; appends in one write
 * with O_APPEND) without a shell and its helpers per call. A console polls and publishes the shared
 * monitor state every second or two: as scripts, that was several processes a second at rest.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import path from 'node:path';

/** Make the directory (0700, as `umask 077; mkdir -p`). */
async function ensureDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
}

/** fsync a directory, so a rename in it survives a crash; where that is not possible, nothing. */
async function syncDir(dir: string): Promise<void> {
  const d = await fsp.open(dir, fsConstants.O_RDONLY).catch(() => null);
  if (!d) return;
  try {
    await d.sync();
  } catch {
    // some filesystems refuse fsync on a directory
  } finally {
    await d.close();
  }
}

/**
 * A new file with `content`, created exclusively (O_EXCL, mode 0600: a link planted at the name is
 * never followed) beside `file` under a random name; fsynced. Returns its path.
 */
async function writeTemp(file: string, tag: string, content: string): Promise<string> {
  const tmp = path.join(path.dirname(file), `.tmp.${tag}.${randomBytes(6).toString('hex')}`);
  const fh = await fsp.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  return tmp;
}

/** Replace `file` atomically with `content`. */
export async function writeAtomicHere(file: string, content: string): Promise<void> {
  const dir = path.dirname(file);
  await ensureDir(dir);
  const tmp = await writeTemp(file, path.basename(file), content);
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/**
 * Create `file` only if nothing is at its name, with its whole content from the first instant: a temp
 * file beside it, fsynced, hard-linked to the name (link(2) fails on any existing name: the atomic
 * test-and-set of a lock). True if this call created it.
 */
export async function createExclusiveHere(file: string, content: string): Promise<boolean> {
  const dir = path.dirname(file);
  await ensureDir(dir);
  const tmp = await writeTemp(file, path.basename(file), content);
  try {
    await fsp.link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  await syncDir(dir);
  return true;
}

/** Remove a file (or an empty directory at the name; a symlink itself, never its target). Absent is fine. */
export async function removeHere(file: string): Promise<void> {
  const st = await fsp.lstat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
    throw err;
  });
  if (!st) return;
  if (st.isDirectory()) await fsp.rmdir(file);
  else await fsp.rm(file, { force: true });
}

/** Append lines in one write (O_APPEND: concurrent appenders cannot interleave within it), then fsync. */
export async function appendLinesHere(file: string, lines: readonly string[]): Promise<void> {
  await ensureDir(path.dirname(file));
  const fh = await fsp.open(file, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o600);
  try {
    await fh.write(lines.map((l) => `${l}\n`).join(''));
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** How long a last line without its newline must keep its size before it counts as torn, and how often it is looked at. */
const TORN_SETTLE_MS = 1000;
const TORN_POLL_MS = 50;

/**
 * The file's size when its last line is torn (no newline at its end), else null. Another process's
 * append in progress looks the same for a moment (its write is copied in page by page, and the size
 * grows with it): torn is only a tail that keeps its size for TORN_SETTLE_MS. The wait costs nothing
 * when the file ends in a newline, as it does but after a crash mid-append.
 */
async function tornSize(fh: fsp.FileHandle): Promise<number | null> {
  let size = (await fh.stat()).size;
  let steadySince = Date.now();
  for (;;) {
    if (size === 0 || (await readAt(fh, size - 1, 1))[0] === 0x0a) return null;
    if (Date.now() - steadySince >= TORN_SETTLE_MS) return size;
    await new Promise((r) => setTimeout(r, TORN_POLL_MS));
    const now = (await fh.stat()).size;
    if (now !== size) {
      size = now;
      steadySince = Date.now();
    }
  }
}

/**
 * Append one line to a log in one O_APPEND write, then fdatasync. A torn last line (the file does not
 * end in a newline: a crash mid-append) is first copied to `history.torn.<epoch>` beside it, and the
 * line starts on a fresh one. Another process's append still being written is waited for, not taken
 * for torn (that made a spurious torn copy and a blank line).
 */
export async function appendEntryHere(file: string, line: string): Promise<void> {
  const dir = path.dirname(file);
  await ensureDir(dir);
  const fh = await fsp.open(file, fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o600);
  try {
    const size = await tornSize(fh);
    let prefix = '';
    if (size !== null) {
      await fsp.writeFile(path.join(dir, `history.torn.${Math.floor(Date.now() / 1000)}`), await lastLineOf(fh, size), { mode: 0o600 });
      prefix = '\n';
    }
    await fh.write(`${prefix}${line}\n`);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

async function readAt(fh: fsp.FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** The bytes after the last newline of the file's first `size` bytes (read backwards in chunks). */
async function lastLineOf(fh: fsp.FileHandle, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - 65536);
    const chunk = await readAt(fh, start, end - start);
    const nl = chunk.lastIndexOf(0x0a);
    if (nl >= 0) {
      chunks.unshift(chunk.subarray(nl + 1));
      break;
    }
    chunks.unshift(chunk);
    end = start;
  }
  return Buffer.concat(chunks);
}

export type ReadHere = { text: string } | { absent: true } | { notAFile: true } | { tooLarge: true };

/**
 * Read `file` from one open descriptor (a file moved away meanwhile reads whole or as absent), opened
 * non-blocking so a FIFO planted at the name cannot hang it.
 */
export async function readHere(file: string, cap: number): Promise<ReadHere> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { absent: true };
    if (code === 'EISDIR') return { notAFile: true };
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { notAFile: true };
    if (st.size > cap) return { tooLarge: true };
    const buf = await fh.readFile();
    return buf.length > cap ? { tooLarge: true } : { text: buf.toString('utf8') };
  } finally {
    await fh.close();
  }
}
