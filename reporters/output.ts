/** Writing a rendered document to its target: a stream, or a file whose folders are created first. */
import { appendFile, mkdir, writeFile } from 'node:fs/promises'
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

/** Writes a whole document to the target. Files are replaced, or appended to when `append`. */
export async function writeDocument(target: ReporterTarget, text: string): Promise<void> {
  if (target.kind === 'stream') return writeToStream(target.stream, text)
  await mkdir(path.dirname(target.path), { recursive: true })
  if (target.append) await appendFile(target.path, text, 'utf8')
  else await writeFile(target.path, text, 'utf8')
}

/** How a target is named in messages: `stdout`, or the file's path. */
export function describeTarget(target: ReporterTarget): string {
  return target.kind === 'stream' ? target.name : target.path
}
