import { describe, expect, it } from 'vitest'
import { renderMessage } from '../../engine/executors/local/check-runner.js'
import { renderTemplate, referencedServices, TemplateError } from '../../engine/sandboxes/template.js'
import { fillPlaceholders, onlyPlaceholder, placeholders } from '../../engine/template.js'
import { VariableError, Variables } from '../../engine/vars.js'

describe('the {{…}} grammar', () => {
  it('reads an expression between the braces, spaces trimmed, without braces inside', () => {
    expect(placeholders('a {{ x }} b {{y.z}} {{services.db.url}}')).toEqual(['x', 'y.z', 'services.db.url'])
    expect(placeholders('{{{x}}}')).toEqual(['x'])
    expect(placeholders('{{a b}} {{7*7}} {{}}')).toEqual(['a b', '7*7', ''])
    expect(placeholders('{x} {{ x } }} }}')).toEqual([])
    expect(placeholders('plain text')).toEqual([])
  })

  it('knows a text that is one placeholder and nothing else', () => {
    expect(onlyPlaceholder('{{ order }}')).toBe('order')
    expect(onlyPlaceholder('{{order}}!')).toBeUndefined()
    expect(onlyPlaceholder('{{a}}{{b}}')).toBeUndefined()
  })

  it('fills each placeholder from its expression, leaving the rest of the text as written', () => {
    expect(fillPlaceholders('{x} {{ a }}-{{b}}', (expr) => expr.toUpperCase())).toBe('{x} A-B')
    expect(fillPlaceholders('keep {{ it }}', (_, whole) => whole)).toBe('keep {{ it }}')
  })
})

describe('every user of the grammar reads a text the same way', () => {
  const scope = {
    self: { port: 8080, url: 'http://127.0.0.1:8080', host: '127.0.0.1' },
    services: { db: { port: 5432, url: 'http://127.0.0.1:5432', host: '127.0.0.1' } },
    env: {},
  }

  it('plan variables, sandbox templates and messages find the same placeholders', () => {
    const text = 'x={{ name }} y={{name}}'
    expect(new Variables({ vars: { name: 'tea' } }).render(text)).toBe('x=tea y=tea')
    expect(renderMessage(text, { name: 'tea' })).toBe('x=tea y=tea')
    expect(() => renderTemplate(text, scope)).toThrow('unknown placeholder {{ name }}')
    expect(referencedServices('{{ services.db.url }}/{{services.db.port}}')).toEqual(['db', 'db'])
  })

  it('a placeholder that names no variable is an error in a plan, as it is in a sandbox command', () => {
    // Before, plan variables read only names (`{{ a b }}` was sent as written) while sandbox templates
    // read any expression and refused it: now both refuse it, naming the placeholder.
    const vars = new Variables({ vars: { a: 1 } })
    expect(() => vars.render('/items/{{ a b }}')).toThrow(VariableError)
    expect(() => vars.render('/items/{{ a b }}')).toThrow('{{a b}}: unknown variable "a b"')
    expect(() => vars.render('{{}}')).toThrow(VariableError)
    expect(() => renderTemplate('--port {{ a b }}', scope)).toThrow(TemplateError)
  })

  it("a kind's message leaves a placeholder its data does not have as written", () => {
    expect(renderMessage('got {{status}}, {{ missing }}', { status: 500 })).toBe('got 500, {{ missing }}')
    expect(renderMessage('{{ a b }}', {})).toBe('{{ a b }}')
  })
})
