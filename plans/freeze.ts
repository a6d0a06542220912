/** Freezes a value and everything reachable from it, so a loaded plan cannot be changed by accident. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value
  Object.freeze(value)
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item)
  } else {
    // Plans hold plain data (parsed YAML and the model): own enumerable string keys are all there is.
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key])
  }
  return value
}
