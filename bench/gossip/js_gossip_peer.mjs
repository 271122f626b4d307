#!/usr/bin/env node
// One js-libp2p 3.x node with @libp2p/gossipsub 17 (TCP, Noise, Yamux,
// identify) for bench/gossip, speaking bench_peer.mjs's protocol. libp2p
// comes from tests/interop/js/node_modules (scripts/setup installs it).
// Usage: node js_gossip_peer.mjs [--topic T]
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import { Receiver, runPeer, topicDefault } from './bench_peer.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const modules = process.env.TAHO_JS_MODULES ?? join(here, '..', '..', 'tests', 'interop', 'js', 'node_modules')

// Node resolves bare specifiers from the importing file's folder, and ours
// has no node_modules: find a package's ESM entry point from its "exports".
function entryOf (specifier) {
  const parts = specifier.split('/')
  const nameParts = specifier.startsWith('@') ? 2 : 1
  const name = parts.slice(0, nameParts).join('/')
  const subpath = ['.', ...parts.slice(nameParts)].join('/')
  const packageDir = join(modules, name)
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
  let target = manifest.exports?.[subpath] ?? (subpath === '.' ? manifest.exports ?? manifest.main : undefined)
  while (target != null && typeof target === 'object') target = target.import ?? target.default ?? target.node
  if (typeof target !== 'string') throw new Error(`no ESM entry for ${specifier} in ${packageDir}`)
  return pathToFileURL(join(packageDir, target)).href
}
const load = (specifier) => import(entryOf(specifier))

if (!existsSync(join(modules, 'libp2p'))) {
  process.stderr.write(`js_gossip_peer.mjs: js-libp2p is not installed in ${modules} (run scripts/setup)\n`)
  process.exit(2)
}

// js-libp2p 3.x targets Node >= 22; Node 20 lacks Promise.withResolvers.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new Promise((resolve_, reject_) => { resolve = resolve_; reject = reject_ })
    return { promise, resolve, reject }
  }
}

const topicFlag = process.argv.indexOf('--topic')
const topic = topicFlag >= 0 ? process.argv[topicFlag + 1] : topicDefault

const [libp2p, noise, yamux, tcp, identify, gossipsubModule, multiaddrModule] = await Promise.all([
  load('libp2p'), load('@chainsafe/libp2p-noise'), load('@chainsafe/libp2p-yamux'), load('@libp2p/tcp'),
  load('@libp2p/identify'), load('@libp2p/gossipsub'), load('@multiformats/multiaddr')
])

const node = await libp2p.createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp.tcp()],
  connectionEncrypters: [noise.noise()],
  streamMuxers: [yamux.yamux()],
  // The bench's own dials only: no auto-dialling beyond the given topology.
  connectionManager: { inboundConnectionThreshold: 10000, dialTimeout: 30_000 },
  services: {
    identify: identify.identify(),
    // Every peer is on 127.0.0.1: js's IP-colocation penalty (P6, weight -5
    // past 10 peers per IP) would graylist the whole bench; taho whitelists
    // loopback for the same reason, so js does too. Otherwise stock options.
    pubsub: gossipsubModule.gossipsub({
      scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1']) }
    })
  }
})
await node.start()

const dialAttempts = 3
const pubsub = node.services.pubsub
const receiver = new Receiver()
const decoder = new TextDecoder('latin1')
pubsub.addEventListener('message', (evt) => {
  const message = evt.detail
  if (message.topic !== topic) return
  receiver.record(decoder.decode(message.data))
})

runPeer({
  ready: { peer_id: node.peerId.toString(), addrs: node.getMultiaddrs().map((addr) => addr.toString()) },
  receiver,
  // One at a time, each tried a few times: twenty peers starting at once on
  // a small machine can miss a handshake deadline.
  async dial (addrs) {
    for (const addr of addrs) {
      for (let attempt = 1; ; attempt++) {
        try {
          await node.dial(multiaddrModule.multiaddr(addr))
          break
        } catch (err) {
          if (attempt === dialAttempts) throw new Error(`dialling ${addr}: ${err.message}`)
        }
      }
    }
    return node.getConnections().length
  },
  async subscribe () {
    pubsub.subscribe(topic)
  },
  async status () {
    return {
      connections: node.getConnections().length,
      mesh_peers: pubsub.getMeshPeers(topic).length,
      topic_peers: pubsub.getSubscribers(topic).length
    }
  },
  async publish (bytes) {
    await pubsub.publish(topic, bytes)
  },
  async stop () {
    await node.stop()
  }
})
