/** A writable that records what is written, optionally posing as a terminal, and IO built on it. */
import { Writable } from 'node:stream'
import type { ReporterIO } from '../../reporters/types.js'

export class Capture extends Writable {
  readonly chunks: string[] = []
  constructor(
    readonly isTTY = false,
    readonly columns = 80,
    readonly rows = 24,
  ) {
    super({ decodeStrings: false })
  }
  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    this.chunks.push(String(chunk))
    done()
  }
  get text(): string {
    return this.chunks.join('')
  }
}

/** A writable whose every write fails, like a closed pipe. */
export class Broken extends Writable {
  override _write(_chunk: unknown, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
  }
}

export function fakeIO(options: { tty?: boolean; env?: Record<string, string>; cwd?: string } = {}) {
  const stdout = new Capture(options.tty ?? false)
  const stderr = new Capture(options.tty ?? false)
  const io: ReporterIO = {
    stdout,
    stderr,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    isTTY: options.tty ?? false,
  }
  return { io, stdout, stderr }
}
