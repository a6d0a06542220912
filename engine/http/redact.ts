/** Redaction lives in plans/redact.ts, the one module every area uses; the engine's HTTP code imports it from here. */
export {
  DEFAULT_SENSITIVE_HEADERS,
  MIN_SECRET_LENGTH,
  REDACTED,
  Redactor,
  SecretTooShortError,
  processRedactor,
  redactableKeys,
  secretLength,
} from '../../plans/redact.js'
export type { RedactorOptions } from '../../plans/redact.js'
