/**
 * Durable file replacement, the one way every output the manager writes
 * (results.json, leaves.csv, report.html, the demo's script) reaches disk:
 * write a temp file in the same folder, fsync it, rename it over the target,
 * fsync the folder. A reader sees the old content or the new, never a part;
 * after a crash the new content is on disk once the call returned. On any
 * failure (a full disk: ENOSPC) the temp file is removed and a
 * {@link WriteFailed} naming the path and the error code is thrown.
 *
 * @module
 */

/** A failed {@link writeFileDurably}: names the path and the OS error. */
export class WriteFailed extends Error {
  /** The file that could not be written. */
  readonly path: string;
  /** The OS error code when there is one, e.g. `ENOSPC`. */
  readonly code: string | undefined;

  /** `note`: what the caller made of it, appended after a `;`. */
  constructor(path: string, cause: unknown, note?: string) {
    const code = (cause as { code?: unknown })?.code;
    const why = cause instanceof Error ? cause.message : String(cause);
    const c = typeof code === "string" ? code : undefined;
    super(
      `Cannot write ${path}: ${c ? `${c}: ` : ""}${why}${
        note ? `; ${note}` : ""
      }`,
      { cause },
    );
    this.name = "WriteFailed";
    this.path = path;
    this.code = c;
  }
}

/** The folder holding `path` (`.` for a bare name). */
function folderOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/** Opens a fresh temp file beside `path` (mode 0666 less the umask). */
function openTemp(path: string): { tmp: string; file: Deno.FsFile } {
  for (let i = 0;; i++) {
    const tag = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
    const tmp = `${path}.${tag}.tmp`;
    try {
      const file = Deno.openSync(tmp, {
        write: true,
        createNew: true,
        mode: 0o666,
      });
      return { tmp, file };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists) || i >= 8) throw e;
    }
  }
}

/** Fsyncs a folder, so that a rename in it survives a crash (not on Windows). */
function syncFolder(dir: string): void {
  if (Deno.build.os === "windows") return;
  const d = Deno.openSync(dir, { read: true });
  try {
    d.syncSync();
  } finally {
    d.close();
  }
}

/**
 * Replaces `path` with `data` durably and atomically (see the module's
 * description). Throws {@link WriteFailed}, leaving no temp file behind
 * and `path` as it was (unless only the folder's fsync, after the rename,
 * failed: then `path` has the new content, not yet known durable).
 */
export function writeFileDurably(
  path: string,
  data: string | Uint8Array,
): void {
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  let tmp: string | undefined;
  let file: Deno.FsFile | undefined;
  try {
    ({ tmp, file } = openTemp(path));
    for (let off = 0; off < bytes.length;) {
      off += file.writeSync(bytes.subarray(off));
    }
    file.syncSync();
    file.close();
    file = undefined;
    Deno.renameSync(tmp, path);
    tmp = undefined;
    syncFolder(folderOf(path));
  } catch (e) {
    try {
      file?.close();
    } catch { /* already closed */ }
    if (tmp !== undefined) {
      try {
        Deno.removeSync(tmp);
      } catch { /* never created or already gone */ }
    }
    throw new WriteFailed(path, e);
  }
}
