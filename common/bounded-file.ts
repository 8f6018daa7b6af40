/**
 * Reading a file a user named (a config, a data set) without trusting what it is: only a regular
 * file is read, and only up to a byte cap. `/dev/zero` would otherwise fill memory, a named pipe
 * would block the reader forever, and a directory fails with an obscure error.
 *
 * The file is opened non-blocking (opening a FIFO for reading then returns at once instead of
 * waiting for a writer) and checked with fstat on the open descriptor, so the check and the read
 * are of the same file even if the path is swapped between them. The read stops one byte past the
 * cap, so a file that grows after the check is still refused rather than read whole.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** Why a file was refused; `message` names the path and says what to give instead. */
export class UnreadableFileError extends Error {
  override name = 'UnreadableFileError';
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
  }
}

/** What kind of file `stats` is, in words, for the error of a file that is not a regular one. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toLocaleString('en-US', { maximumFractionDigits: 1 })} MiB`;

/**
 * The bytes of the regular file at `path`, at most `maxBytes` of them.
 * @param what  what the file is for, in the error: 'data file', 'config file'
 * @throws UnreadableFileError when it is missing, not a regular file, or larger than `maxBytes`
 */
export function readBoundedFile(path: string, maxBytes: number, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UnreadableFileError(path, code === 'ENOENT' ? `no such ${what}` : `cannot open the ${what} (${code ?? (err as Error).message})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new UnreadableFileError(path, `is ${kindOf(stats)}, not a regular file; a ${what} must be a regular file`);
    if (stats.size > maxBytes) throw new UnreadableFileError(path, `is ${mib(stats.size)}, over the ${mib(maxBytes)} limit of a ${what}`);
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buffer, filled, buffer.length - filled, null);
      if (n === 0) break;
      filled += n;
      if (filled > maxBytes) throw new UnreadableFileError(path, `grew past the ${mib(maxBytes)} limit of a ${what} while it was read`);
      if (filled === buffer.length) {
        // The file grew since fstat: keep reading in steps, up to the cap.
        const bigger = Buffer.alloc(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(bigger, 0, 0, filled);
        return finishRead(fd, bigger, filled, maxBytes, path, what);
      }
    }
    return buffer.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

function finishRead(fd: number, buffer: Buffer, filled: number, maxBytes: number, path: string, what: string): Buffer {
  for (;;) {
    if (filled === buffer.length) throw new UnreadableFileError(path, `grew past the ${mib(maxBytes)} limit of a ${what} while it was read`);
    const n = readSync(fd, buffer, filled, buffer.length - filled, null);
    if (n === 0) return buffer.subarray(0, filled);
    filled += n;
  }
}

/** {@link readBoundedFile} as UTF-8 text. */
export function readBoundedText(path: string, maxBytes: number, what: string): string {
  return readBoundedFile(path, maxBytes, what).toString('utf8');
}
