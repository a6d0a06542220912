/**
 * The one `{{…}}` grammar of vigil: plan variables (`{{orderId}}`, `{{secrets.alice}}`, engine/vars.ts), a
 * sandbox service's command and env (`{{port}}`, `{{services.db.url}}`, engine/sandboxes/template.ts) and a
 * kind's message templates (`{{expected}}`, the executor's check runner) all read placeholders the same way:
 * `{{`, optional spaces, an expression without braces, optional spaces, `}}`. What an expression means is
 * each user's business; what counts as a placeholder is decided here only, so a text a plan author writes
 * has one reading everywhere.
 */

/** `{{ expr }}`: the expression is everything between the braces, trimmed, and holds no brace. */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g
const ONLY = /^\{\{\s*([^{}]*?)\s*\}\}$/

/** The expressions of every placeholder in `text`, in order (`'a {{ x }} {{y.z}}'` → `['x', 'y.z']`). */
export function placeholders(text: string): string[] {
  if (!text.includes('{{')) return []
  return Array.from(text.matchAll(PLACEHOLDER), (m) => m[1]!)
}

/**
 * The expression when the whole of `text` is one placeholder (`'{{ order }}'` → `'order'`), else undefined:
 * such a value stands for the variable itself (a number, an object), not for its text.
 */
export function onlyPlaceholder(text: string): string | undefined {
  return ONLY.exec(text)?.[1]
}

/**
 * Replaces every placeholder by what `replace` returns for its expression (`whole` is the placeholder as
 * written, e.g. to leave it in place or to name it in an error).
 */
export function fillPlaceholders(text: string, replace: (expr: string, whole: string) => string): string {
  if (!text.includes('{{')) return text
  return text.replace(PLACEHOLDER, (whole, expr: string) => replace(expr, whole))
}
