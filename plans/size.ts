/** Sizes as plans write them — `300MB`, `512KiB`, `1.5 GiB`, or a plain number of bytes — and as reports show them. */

/** The JSON Schema of a size in a plan block. */
export const sizeSchema = {
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(B|KB|MB|GB|KiB|MiB|GiB)\\s*$' },
  ],
  description: 'bytes, or a size such as 300MB, 512KiB',
}

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
}

/** `300MB` → 300000000; a number is bytes. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$/.exec(value)
  const unit = match ? UNITS[match[2]!.toUpperCase()] : undefined
  if (!match || unit === undefined) throw new Error(`"${value}" is not a size such as 300MB`)
  return Number(match[1]) * unit
}

/** 12582912 → `12.6 MB`. */
export function formatSize(bytes: number): string {
  const abs = Math.abs(bytes)
  if (abs >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`
  if (abs >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`
  if (abs >= 1e3) return `${(bytes / 1e3).toFixed(1)} KB`
  return `${Math.round(bytes)} B`
}
