#!/usr/bin/env node
// The application side of one taho daemon for bench/gossip, speaking
// bench_peer.mjs's protocol: it publishes with POST /api/v1/events/{topic}
// (keep-alive connections) and receives from the server-sent event stream
// GET /api/v1/events/{topic}, so taho's figures are end to end through the
// API, as an application sees them.
// Usage: node taho_gossip_client.mjs --home TAHO_HOME [--topic T]
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'

import { Receiver, monotonicNs, runPeer, topicDefault } from './bench_peer.mjs'

function flag (name, fallback) {
  const at = process.argv.indexOf(name)
  return at >= 0 ? process.argv[at + 1] : fallback
}

const home = flag('--home')
if (home == null) {
  process.stderr.write('usage: taho_gossip_client.mjs --home TAHO_HOME [--topic T]\n')
  process.exit(2)
}
const topic = flag('--topic', topicDefault)
const [host, port] = readFileSync(join(home, 'api.addr'), 'utf8').trim().split(':')
const token = readFileSync(join(home, 'api.token'), 'utf8').trim()
const eventsPath = `/api/v1/events/${encodeURIComponent(topic)}`
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

function request (method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host, port, method, path, agent,
      headers: { Authorization: `Bearer ${token}`, 'Content-Length': body == null ? 0 : body.length }
    }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode === 200) resolve(JSON.parse(text))
        else reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

const receiver = new Receiver()
let stream = null

// Opens the event stream; resolves once the daemon answered with 200 (it
// has subscribed by then).
function subscribe () {
  return new Promise((resolve, reject) => {
    const req = http.get({
      host, port, path: eventsPath, headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' }
    }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`GET ${eventsPath}: ${res.statusCode}`))
        res.resume()
        return
      }
      let partial = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        const recvNs = monotonicNs()
        const lines = (partial + chunk).split('\n')
        partial = lines.pop()
        for (const line of lines) {
          if (!line.startsWith('data:')) continue
          const event = JSON.parse(line.slice(5))
          if (event.topic === topic && typeof event.data === 'string') receiver.record(event.data, recvNs)
        }
      })
      res.on('end', () => process.stderr.write('taho_gossip_client.mjs: the event stream ended\n'))
      resolve()
    })
    req.on('error', reject)
    stream = req
  })
}

const id = await request('GET', '/api/v1/id')
runPeer({
  ready: { peer_id: id.peer_id, addrs: id.addrs },
  receiver,
  subscribe,
  async status () {
    const mesh = await request('GET', '/api/v1/mesh')
    const peers = await request('GET', '/api/v1/peers')
    const ours = mesh.gossip_topics?.[topic] ?? {}
    return {
      connections: peers.peers.length,
      peers: peers.peers.map((peer) => peer.peer_id),
      mesh_peers: ours.mesh_peers ?? 0,
      topic_peers: ours.topic_peers ?? 0
    }
  },
  async publish (bytes) {
    await request('POST', eventsPath, bytes)
  },
  async stop () {
    stream?.destroy()
    agent.destroy()
  }
})
