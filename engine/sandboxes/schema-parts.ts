/** Schema fragments every sandbox provider's options share. */

/** A duration: `500ms`, `15s`, `2m`, `1h`, or milliseconds as a number. */
export const durationSchema = {
  description: 'A duration: 500ms, 15s, 2m, 1h, or milliseconds as a number.',
  anyOf: [
    { type: 'number', minimum: 0 },
    {
      type: 'string',
      pattern: '^\\s*(\\d+(\\.\\d+)?(ms|s|m|h))+\\s*$',
      'x-pattern': 'must be a duration such as 500ms, 15s, 2m or 1h (or a number of milliseconds)',
    },
  ],
}

/** `default`: the service checks use when they name none. */
export const defaultServiceSchema = {
  type: 'string',
  description: 'Service checks use when they name none. @default the only service',
}
