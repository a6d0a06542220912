/** vitest's global setup: the CLI the tests spawn (bin/vigil.js) is the build of the current sources. */
import { buildIfStale } from './build.js'

export default async function setup(): Promise<void> {
  await buildIfStale()
}
