#!/usr/bin/env node
// A js-libp2p peer for taho's interop tests, driven over stdio:
//   stdout: one JSON object per line: {"event":"ready",...} once listening,
//           one reply per command, and events (connection:open/close,
//           peer:identify) as they happen;
//   stdin:  one JSON command per line, e.g. {"cmd":"ping","peer":"12D3..."}.
// Human-readable diagnostics go to stderr. See README.md for the protocol.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

function emit (object) {
  process.stdout.write(JSON.stringify(object) + '\n')
}

function die (message, status = 1) {
  emit({ event: 'error', fatal: true, message })
  process.stderr.write(`peer.mjs: ${message}\n`)
  process.exit(status)
}

const nodeMajor = Number(process.versions.node.split('.')[0])
if (nodeMajor < 20) die(`Node ${process.versions.node} is too old: js-libp2p 3.x needs Node >= 20`)
if (!existsSync(join(here, 'node_modules', 'libp2p'))) {
  die(`js-libp2p is not installed in ${join(here, 'node_modules')}: run scripts/setup ` +
      `(or 'npm install' in ${here})`, 2)
}

// js-libp2p 3.x targets Node >= 22. On Node 20 it lacks Promise.withResolvers
// and a global WebSocket (INTEROP-NOTES.md): define both before libp2p loads,
// hence the dynamic imports below.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new Promise((resolve_, reject_) => { resolve = resolve_; reject = reject_ })
    return { promise, resolve, reject }
  }
}

const { parseOptions, usage } = await import('./lib/options.mjs')
let options
try {
  options = parseOptions(process.argv.slice(2))
} catch (err) {
  die(`${err.message}\n${usage}`, 2)
}
if (options.help) {
  process.stdout.write(usage + '\n')
  process.exit(0)
}

async function importLibraries () {
  if (globalThis.WebSocket == null) {
    const { WebSocket } = await import('ws')
    globalThis.WebSocket = WebSocket
  }
  const [libp2p, noise, yamux, tcp, websockets, identify, ping, echo, peerId, keys, multiaddr] = await Promise.all([
    import('libp2p'), import('@chainsafe/libp2p-noise'), import('@chainsafe/libp2p-yamux'), import('@libp2p/tcp'),
    import('@libp2p/websockets'), import('@libp2p/identify'), import('@libp2p/ping'), import('@libp2p/echo'),
    import('@libp2p/peer-id'), import('@libp2p/crypto/keys'), import('@multiformats/multiaddr')
  ])
  return { libp2p, noise, yamux, tcp, websockets, identify, ping, echo, peerId, keys, multiaddr }
}

// Optional services, each enabled by its flag. A protocol added later puts
// its service here and its commands in a table listed in commandTables.
async function optionalServices (opts) {
  const services = {}
  if (opts.gossipsub) {
    const { gossipsub } = await import('@libp2p/gossipsub')
    services.pubsub = gossipsub()
  }
  if (opts.mdns) {
    // A query every second (js default: 10 s) so tests do not wait long.
    const { mdns } = await import('@libp2p/mdns')
    services.mdns = mdns({ interval: 1000 })
  }
  if (opts.kad) {
    const { kadDHT, passthroughMapper } = await import('@libp2p/kad-dht')
    // Test peers live on loopback: keep those addresses (a stock node drops
    // them) and act as a server without waiting to believe it is public.
    services.dht = kadDHT({ protocol: opts.kadProtocol, clientMode: false, peerInfoMapper: passthroughMapper })
  }
  if (opts.autonat) {
    // AutoNAT v1 server and client, as a stock node runs it.
    const { autoNAT } = await import('@libp2p/autonat')
    services.autonat = autoNAT()
  }
  return services
}

// Optional transports, each enabled by its flag.
async function optionalTransports (opts) {
  const transports = []
  if (opts.quic) {
    const { quic } = await import('@chainsafe/libp2p-quic')
    transports.push(quic())
  }
  return transports
}

async function createNode (libs, opts) {
  const privateKey = opts.seed == null
    ? undefined
    : await libs.keys.generateKeyPairFromSeed('Ed25519', Uint8Array.from(Buffer.from(opts.seed, 'hex')))
  const connectionManager = {}
  if (opts.inboundThreshold != null) connectionManager.inboundConnectionThreshold = opts.inboundThreshold
  return libs.libp2p.createLibp2p({
    privateKey,
    addresses: { listen: opts.listen },
    transports: [libs.tcp.tcp(), libs.websockets.webSockets(), ...(await optionalTransports(opts))],
    connectionEncrypters: [libs.noise.noise()],
    streamMuxers: [libs.yamux.yamux()],
    connectionManager,
    connectionMonitor: { enabled: opts.connectionMonitor },
    // identify's agentVersion is nodeInfo.userAgent in js-libp2p 3.x.
    ...(opts.agent == null ? {} : { nodeInfo: { userAgent: opts.agent } }),
    services: {
      identify: libs.identify.identify(),
      ping: libs.ping.ping(),
      // Long transfers (100 MiB and more) outlast echo's default 20 s.
      echo: libs.echo.echo({ timeout: 300_000, maxInboundStreams: 256, maxOutboundStreams: 256 }),
      ...(await optionalServices(opts))
    }
  })
}

function withTimeout (promise, ms, what) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

let node
let libs
try {
  await withTimeout((async () => {
    libs = await importLibraries()
    node = await createNode(libs, options)
    await node.start()
    const { startPerfServer } = await import('./lib/streams.mjs')
    await startPerfServer(node)
  })(), options.startupTimeoutMs, 'starting js-libp2p')
} catch (err) {
  die(`could not start: ${err.stack ?? err}`)
}

const { coreCommands } = await import('./lib/commands.mjs')
const { streamCommands } = await import('./lib/streams.mjs')
const { pubsubCommands, watchPubsub } = await import('./lib/pubsub.mjs')
const { dhtCommands } = await import('./lib/dht.mjs')
const { autonatCommands } = await import('./lib/autonat.mjs')
const commandTables = [coreCommands, streamCommands, pubsubCommands, dhtCommands, autonatCommands]
const commands = Object.assign({}, ...commandTables)

const format = await import('./lib/format.mjs')
const { Identified } = await import('./lib/identified.mjs')

const ctx = {
  node,
  emit,
  identified: new Identified(),
  multiaddr: libs.multiaddr.multiaddr,
  peerIdFromString: libs.peerId.peerIdFromString
}

node.addEventListener('connection:open', (evt) => emit({ event: 'connection:open', ...format.connection(evt.detail) }))
node.addEventListener('connection:close', (evt) => emit({ event: 'connection:close', ...format.connection(evt.detail) }))
// --mdns: what @libp2p/mdns itself heard (the node's own peer:discovery also
// fires for peers first met through a connection). Each peer is reported
// when first heard and when its addresses change; js does not dial it.
if (node.services.mdns != null) {
  const reported = new Map()
  node.services.mdns.addEventListener('peer', (evt) => {
    const peer = evt.detail.id.toString()
    const addrs = evt.detail.multiaddrs.map((addr) => addr.toString())
    if (reported.get(peer) === addrs.join(' ')) return
    reported.set(peer, addrs.join(' '))
    emit({ event: 'peer:discovery', peer, addrs })
  })
}
// --gossipsub: a "pubsub:message" event for every message js delivers.
watchPubsub(ctx)
node.addEventListener('peer:identify', (evt) => {
  const result = format.identifyResult(evt.detail)
  ctx.identified.record(result)
  emit({ event: 'peer:identify', ...result })
})

let stopping = false
async function stop (status) {
  if (stopping) return
  stopping = true
  try {
    await withTimeout(node.stop(), 10000, 'stopping js-libp2p')
  } catch (err) {
    process.stderr.write(`peer.mjs: ${err.message}\n`)
    status = status || 1
  }
  emit({ event: 'stopped' })
  process.exit(status)
}

async function run (line) {
  let msg
  try {
    msg = JSON.parse(line)
  } catch (err) {
    emit({ event: 'error', message: `not JSON: ${err.message}`, line })
    return
  }
  const reply = (fields) => emit({ ...fields, ...(msg.id === undefined ? {} : { id: msg.id }) })
  if (msg == null || typeof msg.cmd !== 'string') {
    reply({ event: 'error', message: 'a command is an object with a string "cmd"' })
    return
  }
  if (msg.cmd === 'stop') {
    await stop(0)
    return
  }
  const command = Object.hasOwn(commands, msg.cmd) ? commands[msg.cmd] : undefined
  if (command == null) {
    reply({ event: 'error', cmd: msg.cmd, message: `unknown command; known: ${[...Object.keys(commands), 'stop'].join(', ')}` })
    return
  }
  const timeoutMs = Number.isInteger(msg.timeout_ms) ? msg.timeout_ms : options.commandTimeoutMs
  try {
    const result = await command(ctx, msg, AbortSignal.timeout(timeoutMs))
    reply({ event: msg.cmd, ...result })
  } catch (err) {
    reply({ event: 'error', cmd: msg.cmd, message: err.message ?? String(err), name: err.name })
  }
}

// Commands run concurrently; a test that needs order waits for each reply.
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
lines.on('line', (line) => { if (line.trim() !== '') run(line) })
// The test that started us is gone: do not linger.
lines.on('close', () => stop(0))
process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
process.on('unhandledRejection', (err) => process.stderr.write(`peer.mjs: unhandled: ${err?.stack ?? err}\n`))

emit({ event: 'ready', peer_id: node.peerId.toString(), addrs: format.addrs(node.getMultiaddrs()) })
