/** Writing a rendered document to its target: a stream, or a file whose folders are created first. */
import { randomBytes } from 'node:crypto'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { appendFile, mkdir, open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import type { OutputStream, ReporterTarget } from './types.js'

/** Writes `text` and resolves once the stream accepted it (so EPIPE and EACCES surface as rejections). */
export function writeToStream(stream: OutputStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false
    const settle = (error?: Error | null) => {
      if (settled) return
      settled = true
      if (error) reject(error)
      else resolve()
    }
    // A failed write calls back with the error and then emits 'error' too; the listener stays until
    // that event so it is not left unhandled (which would crash the process).
    stream.once('error', settle)
    stream.write(text, (error?: Error | null) => {
      if (!error) stream.removeListener('error', settle)
      settle(error)
    })
  })
}

/** Writes a whole document to the target. Files are replaced atomically, or appended to when `append`. */
export async function writeDocument(target: ReporterTarget, text: string): Promise<void> {
  if (target.kind === 'stream') return writeToStream(target.stream, text)
  await mkdir(path.dirname(target.path), { recursive: true })
  if (target.append) await appendFile(target.path, text, 'utf8')
  else await writeFileAtomic(target.path, text)
}

/** A temporary name beside `file`, unique to this process and call (so two writers never share one). */
function tempNameFor(file: string): string {
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  return path.join(path.dirname(file), `.${path.basename(file)}.${suffix}`)
}

/**
 * Replaces `file` with `text` atomically: written to a temporary file in the same folder, flushed, then
 * renamed over `file`. A reader sees the old document or the new one, never a part; of two writers, the
 * last rename wins whole. (Hand-written rather than a dependency: it is these few lines, and vigil also
 * needs the synchronous form below for exit hooks.)
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const temp = tempNameFor(file)
  try {
    const handle = await open(temp, 'wx', 0o666)
    try {
      await handle.writeFile(text, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {})
    throw error
  }
}

/** `writeFileAtomic` for places that cannot wait (exit hooks, state kept in step with spawned processes); not flushed. */
export function writeFileAtomicSync(file: string, text: string, mode = 0o666): void {
  const temp = tempNameFor(file)
  try {
    writeFileSync(temp, text, { encoding: 'utf8', flag: 'wx', mode })
    renameSync(temp, file)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
}
