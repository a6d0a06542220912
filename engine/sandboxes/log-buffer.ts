/** A bounded, timestamped ring buffer of a process's output lines. */

export interface LogLine {
  /** Milliseconds since the epoch when the line (or its last chunk) arrived. */
  time: number
  stream: 'stdout' | 'stderr' | 'vigil'
  text: string
}

export interface LogBufferOptions {
  /** Lines kept; older lines are dropped. @default 1000 */
  capacity?: number
  /** Characters kept per line; longer lines are cut with a marker. @default 4000 */
  maxLineLength?: number
  /**
   * Redacts each line before it is stored (and before a long line is cut, so a secret at the cut cannot
   * leave a prefix behind). Lines still waiting for their end are redacted when read. @default none
   */
  redactor?: { text(input: string): string }
}

export class LogBuffer {
  private readonly lines: LogLine[] = []
  private start = 0
  private dropped = 0
  private readonly partial = { stdout: '', stderr: '' }
  private readonly capacity: number
  private readonly maxLineLength: number
  private readonly redact: (input: string) => string

  constructor(options: LogBufferOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? 1000)
    this.maxLineLength = Math.max(16, options.maxLineLength ?? 4000)
    const redactor = options.redactor
    this.redact = redactor ? (input) => redactor.text(input) : (input) => input
  }

  /** Feeds a chunk of a stream; complete lines are stored, a trailing partial line waits for its end. */
  write(stream: 'stdout' | 'stderr', chunk: string): void {
    const text = this.partial[stream] + chunk
    const parts = text.split(/\r?\n/)
    const rest = parts.pop() ?? ''
    for (const line of parts) this.push(stream, line)
    // A partial line that never ends must not grow without bound.
    if (rest.length > this.maxLineLength) {
      this.push(stream, rest)
      this.partial[stream] = ''
    } else this.partial[stream] = rest
  }

  /** Adds a note of our own (exit, signal), shown among the service's lines. */
  note(text: string): void {
    this.push('vigil', text)
  }

  /** Stores any partial lines (call when the process ended). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.push(stream, this.partial[stream])
      this.partial[stream] = ''
    }
  }

  /** Stored lines, oldest first; with `limit`, only the last ones. */
  entries(limit?: number): LogLine[] {
    const ordered = [...this.lines.slice(this.start), ...this.lines.slice(0, this.start)]
    const pending = (['stdout', 'stderr'] as const)
      .filter((s) => this.partial[s])
      .map((s) => ({ time: Date.now(), stream: s, text: this.redact(this.partial[s]) }))
    const all = [...ordered, ...pending]
    return limit === undefined ? all : all.slice(Math.max(0, all.length - limit))
  }

  /** Lines rendered as `2025-01-31T12:00:00.000Z stderr text`, oldest first. */
  render(limit?: number): string[] {
    const out = this.entries(limit).map(formatLogLine)
    if (this.dropped > 0 && (limit === undefined || out.length < limit)) {
      out.unshift(`(${this.dropped} earlier lines dropped)`)
    }
    return out
  }

  private push(stream: LogLine['stream'], input: string): void {
    const raw = this.redact(input)
    const text = raw.length > this.maxLineLength ? `${raw.slice(0, this.maxLineLength)}… (line cut)` : raw
    const line = { time: Date.now(), stream, text }
    if (this.lines.length < this.capacity) {
      this.lines.push(line)
      return
    }
    this.lines[this.start] = line
    this.start = (this.start + 1) % this.capacity
    this.dropped++
  }
}

export function formatLogLine(line: LogLine): string {
  return `${new Date(line.time).toISOString()} ${line.stream} ${line.text}`
}
