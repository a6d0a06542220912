import { symlink } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadPlans } from '../../plans/index.js'
import { planText, tempTree } from './helpers.js'

describe('plan discovery', () => {
  it('finds *.md under folders, skipping node_modules and dot-folders', async () => {
    const cwd = await tempTree({
      'plans/b.md': planText('b'),
      'plans/deep/er/a.md': planText('a'),
      'plans/notes.txt': 'not markdown',
      'plans/node_modules/pkg/readme.md': planText('dependency'),
      'plans/.drafts/draft.md': planText('draft'),
    })
    const result = await loadPlans({ roots: ['plans'], cwd })
    expect(result.files).toEqual(['plans/b.md', 'plans/deep/er/a.md'])
    expect(result.plans.map((p) => p.name)).toEqual(['a', 'b'])
  })

  it('accepts files and globs as roots, matching folders too, without duplicates', async () => {
    const cwd = await tempTree({
      'services/orders/plans/orders.md': planText('orders'),
      'services/cart/plans/cart.md': planText('cart'),
      'services/cart/README.md': '# Cart\n',
      'plans/x.md': planText('x'),
    })
    const result = await loadPlans({ roots: ['services/*/plans', 'plans/x.md', 'plans/**/*.md'], cwd })
    expect(result.files).toEqual([
      'plans/x.md',
      'services/cart/plans/cart.md',
      'services/orders/plans/orders.md',
    ])
    expect(result.diagnostics).toEqual([])
  })

  it('follows symlinked folders once, even in a cycle', async () => {
    const cwd = await tempTree({ 'plans/a.md': planText('a') })
    await symlink(path.join(cwd, 'plans'), path.join(cwd, 'plans', 'loop'))
    const result = await loadPlans({ roots: ['plans'], cwd })
    expect(result.plans.map((p) => p.name)).toEqual(['a'])
  })

  it('skips Markdown without frontmatter or checks with a warning', async () => {
    const cwd = await tempTree({ 'plans/README.md': '# About these plans\n', 'plans/a.md': planText('a') })
    const result = await loadPlans({ roots: ['plans'], cwd })
    expect(result.plans.map((p) => p.name)).toEqual(['a'])
    expect(result.diagnostics.map((d) => [d.file, d.severity, d.code])).toEqual([
      ['plans/README.md', 'warning', 'not-a-plan'],
    ])
  })
})
