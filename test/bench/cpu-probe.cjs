// Preloaded (`node -r`) into each process the start-up benchmark measures: when the process exits it writes
// its own CPU time (user and system, microseconds, from process.resourceUsage) to file descriptor 3, which
// the benchmark reads. Measured this way, bare node and the CLI carry the same probe.
'use strict'
const { writeSync } = require('node:fs')

process.on('exit', () => {
  const { userCPUTime, systemCPUTime } = process.resourceUsage()
  try {
    writeSync(3, JSON.stringify({ user: userCPUTime, system: systemCPUTime }))
  } catch {
    // No descriptor 3: the process was not started by the benchmark.
  }
})
