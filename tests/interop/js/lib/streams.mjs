// Stream commands for the interop tests and benchmarks: echo (with
// @libp2p/echo's protocol, checked byte for byte) and perf (/perf/1.0.0,
// libp2p/specs perf/perf.md; no js-libp2p 3.x package exists for it, so the
// harness speaks it itself, both as client and as server).
import { pEvent } from 'p-event'
import { target } from './commands.mjs'

export const PERF_PROTOCOL = '/perf/1.0.0'
export const ECHO_PROTOCOL = '/echo/1.0.0'
const CHUNK_BYTES = 64 * 1024
const ZEROS = new Uint8Array(CHUNK_BYTES)

// Writes one chunk, waiting for the stream to drain when its buffer is full.
async function send (stream, chunk, signal) {
  if (!stream.send(chunk)) {
    await pEvent(stream, 'drain', { rejectionEvents: ['close'], signal })
  }
}

function asBytes (buf) {
  return buf instanceof Uint8Array ? buf : buf.subarray()
}

// The payload of echo stream `seed`: bytes that differ per stream and offset.
function payload (seed, length) {
  const bytes = new Uint8Array(length)
  let x = (seed * 2654435761) >>> 0
  for (let i = 0; i < length; i++) {
    x = (x ^ (x << 13)) >>> 0
    x = (x ^ (x >>> 17)) >>> 0
    x = (x ^ (x << 5)) >>> 0
    bytes[i] = x & 0xff
  }
  return bytes
}

async function echoOne (ctx, remote, seed, length, signal) {
  const expected = payload(seed, length)
  const stream = await ctx.node.dialProtocol(remote, ECHO_PROTOCOL, { signal })
  let received = 0
  const reading = (async () => {
    for await (const buf of stream) {
      const bytes = asBytes(buf)
      if (received + bytes.byteLength > length) throw new Error(`echo stream ${seed}: more bytes than were sent`)
      for (let i = 0; i < bytes.byteLength; i++) {
        if (bytes[i] !== expected[received + i]) throw new Error(`echo stream ${seed}: byte ${received + i} changed`)
      }
      received += bytes.byteLength
    }
  })()
  for (let offset = 0; offset < length; offset += CHUNK_BYTES) {
    await send(stream, expected.subarray(offset, Math.min(length, offset + CHUNK_BYTES)), signal)
  }
  await stream.close({ signal })
  await reading
  if (received !== length) throw new Error(`echo stream ${seed}: ${received} of ${length} bytes came back`)
  return received
}

// Serves /perf/1.0.0: read the 8-byte request and the upload to the end,
// then send the requested number of bytes and close.
async function servePerf (stream) {
  const header = new Uint8Array(8)
  let headerRead = 0
  for await (const buf of stream) {
    const bytes = asBytes(buf)
    if (headerRead < 8) {
      const n = Math.min(8 - headerRead, bytes.byteLength)
      header.set(bytes.subarray(0, n), headerRead)
      headerRead += n
    }
  }
  if (headerRead < 8) {
    stream.abort(new Error('perf: the stream ended inside the request'))
    return
  }
  let left = new DataView(header.buffer).getBigUint64(0, false)
  const signal = AbortSignal.timeout(300_000)
  while (left > 0n) {
    const n = left < BigInt(CHUNK_BYTES) ? Number(left) : CHUNK_BYTES
    await send(stream, ZEROS.subarray(0, n), signal)
    left -= BigInt(n)
  }
  await stream.close({ signal })
}

export async function startPerfServer (node) {
  await node.handle(PERF_PROTOCOL, (stream) => {
    servePerf(stream).catch((err) => {
      process.stderr.write(`peer.mjs: perf server: ${err.message}\n`)
      stream.abort(err)
    })
  }, { maxInboundStreams: 64, maxOutboundStreams: 64 })
}

async function perfClient (ctx, remote, uploadBytes, downloadBytes, signal) {
  const started = performance.now()
  const stream = await ctx.node.dialProtocol(remote, PERF_PROTOCOL, { signal })
  let downloaded = 0
  let uploadEnded
  const reading = (async () => {
    for await (const buf of stream) downloaded += buf.byteLength
  })()
  const header = new Uint8Array(8)
  new DataView(header.buffer).setBigUint64(0, BigInt(downloadBytes), false)
  await send(stream, header, signal)
  for (let left = uploadBytes; left > 0; left -= CHUNK_BYTES) {
    await send(stream, ZEROS.subarray(0, Math.min(left, CHUNK_BYTES)), signal)
  }
  await stream.close({ signal })
  uploadEnded = performance.now()
  await reading
  const ended = performance.now()
  if (downloaded !== downloadBytes) throw new Error(`perf: downloaded ${downloaded} of ${downloadBytes} bytes`)
  return {
    upload_bytes: uploadBytes,
    download_bytes: downloaded,
    upload_seconds: (uploadEnded - started) / 1000,
    download_seconds: (ended - uploadEnded) / 1000
  }
}

function count (msg, name, fallback) {
  const value = msg[name] ?? fallback
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`"${name}" must be a non-negative integer`)
  return value
}

export const streamCommands = {
  // {"cmd":"echo","peer"|"addr":X,"streams":N,"bytes":B} -> {"event":"echo","bytes","seconds"}:
  // N concurrent echo streams of B bytes each, every byte checked.
  async echo (ctx, msg, signal) {
    const streams = count(msg, 'streams', 1)
    const bytes = count(msg, 'bytes', 1024)
    const remote = target(ctx, msg)
    if (typeof msg.addr === 'string') await ctx.node.dial(remote, { signal })
    const started = performance.now()
    const counts = await Promise.all(Array.from({ length: streams }, (_, i) => echoOne(ctx, remote, i + 1, bytes, signal)))
    return { bytes: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - started) / 1000 }
  },

  // {"cmd":"perf","peer"|"addr":X,"upload_bytes":U,"download_bytes":D} ->
  // {"event":"perf","upload_bytes","download_bytes","upload_seconds","download_seconds"}
  async perf (ctx, msg, signal) {
    const remote = target(ctx, msg)
    if (typeof msg.addr === 'string') await ctx.node.dial(remote, { signal })
    return perfClient(ctx, remote, count(msg, 'upload_bytes', 0), count(msg, 'download_bytes', 0), signal)
  },

  // {"cmd":"dials","addr":A,"count":N} -> {"event":"dials","count","seconds"}:
  // N sequential dial + hang-up rounds (handshakes per second).
  async dials (ctx, msg, signal) {
    if (typeof msg.addr !== 'string') throw new Error('"dials" needs "addr"')
    const rounds = count(msg, 'count', 1)
    const remote = ctx.multiaddr(msg.addr)
    const started = performance.now()
    for (let i = 0; i < rounds; i++) {
      const conn = await ctx.node.dial(remote, { signal, force: true })
      await conn.close({ signal })
    }
    return { count: rounds, seconds: (performance.now() - started) / 1000 }
  }
}
