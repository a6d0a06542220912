// A TCP echo service for the seam test of a non-HTTP check kind, started by the real process sandbox
// provider (it listens on PORT). MODE=echo writes back what it reads; MODE=upper writes it back upper-cased,
// as a faulty candidate would. The reply ends when the client half-closes its side.
import { createServer } from 'node:net'
import process from 'node:process'

const upper = process.env.MODE === 'upper'
const server = createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('data', (chunk) => socket.write(upper ? chunk.toString('utf8').toUpperCase() : chunk))
  socket.on('end', () => socket.end())
  socket.on('error', () => socket.destroy())
})
server.listen(Number(process.env.PORT), '127.0.0.1', () =>
  process.stdout.write(`echo: ready on ${process.env.PORT}\n`),
)
process.on('SIGTERM', () => server.close(() => process.exit(0)))
