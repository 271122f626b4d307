// The part of a gossip-bench peer that does not depend on which node it
// drives: the JSON-lines protocol on stdio, the timestamped payload, the
// publish loop and the per-message receive record. js_gossip_peer.mjs (a
// js-libp2p node in this process) and taho_gossip_client.mjs (a taho daemon
// through its HTTP API) each supply a small "node" object to runPeer().
//
// stdout: one JSON object per line; {"event":"ready",...} first.
// stdin:  one command per line, replies carry the command's "id":
//   {"cmd":"dial","addrs":[...]}              -> {"connected": n}
//   {"cmd":"subscribe"}                        -> {}
//   {"cmd":"status"}                           -> node-specific fields
//   {"cmd":"publish","phase":P,"count":N,"size":B,"rate":R,"window":W}
//        N messages of B bytes, R per second (0: as fast as the node
//        accepts, W publishes in flight) -> {published, refused, first_ns, last_ns}
//   {"cmd":"collect","phase":P,"samples":bool,"exclude_publisher":I}
//        -> {count, duplicates, first_ns, last_ns, latencies_ns (if samples)}
//   {"cmd":"stop"}
//
// Times are CLOCK_MONOTONIC nanoseconds (process.hrtime.bigint()), one clock
// for every process on the machine, so receive - send is the end-to-end
// latency across processes.
import { createInterface } from 'node:readline'

export const topicDefault = 'taho-gossip-bench'
// Payload: "phase|publisher|seq|send_ns|" then '.' up to the size. Text, so
// taho's event stream carries it in "data" (no base64 step on either side).
const headerBytesMax = 64

export function monotonicNs () {
  return process.hrtime.bigint()
}

export function makePayload (phase, publisher, seq, size) {
  const header = `${phase}|${publisher}|${seq}|${monotonicNs()}|`
  return Buffer.from(header.padEnd(Math.max(size, header.length), '.'), 'latin1')
}

// -> {phase, publisher, key, sendNs} or null for a payload that is not ours.
export function parsePayload (text) {
  const head = text.slice(0, headerBytesMax).split('|')
  if (head.length < 5) return null
  let sendNs
  try {
    sendNs = BigInt(head[3])
  } catch {
    return null
  }
  return { phase: head[0], publisher: Number(head[1]), key: `${head[1]}|${head[2]}`, sendNs }
}

// Per-phase receive records, deduplicated by (publisher, seq).
export class Receiver {
  constructor () {
    this.phases = new Map()
  }

  record (text, recvNs = monotonicNs()) {
    const parsed = parsePayload(text)
    if (parsed == null) return
    let phase = this.phases.get(parsed.phase)
    if (phase == null) {
      phase = { seen: new Set(), byPublisher: new Map(), duplicates: 0 }
      this.phases.set(parsed.phase, phase)
    }
    if (phase.seen.has(parsed.key)) {
      phase.duplicates++
      return
    }
    phase.seen.add(parsed.key)
    let from = phase.byPublisher.get(parsed.publisher)
    if (from == null) {
      from = { latencies: [], firstNs: recvNs, lastNs: recvNs }
      phase.byPublisher.set(parsed.publisher, from)
    }
    from.latencies.push(Number(recvNs - parsed.sendNs))
    from.lastNs = recvNs
  }

  // What this peer received in a phase, leaving out the messages of
  // publisher `exclude` (itself: a node may hand its own messages back).
  report (phaseName, samples, exclude) {
    const phase = this.phases.get(phaseName)
    const froms = phase == null ? [] : [...phase.byPublisher].filter(([publisher]) => publisher !== exclude).map(([, from]) => from)
    if (froms.length === 0) return { count: 0, duplicates: phase?.duplicates ?? 0, first_ns: null, last_ns: null, latencies_ns: samples ? [] : undefined }
    const minNs = (a, b) => (a < b ? a : b)
    const maxNs = (a, b) => (a > b ? a : b)
    return {
      count: froms.reduce((sum, from) => sum + from.latencies.length, 0),
      duplicates: phase.duplicates,
      first_ns: froms.map((from) => from.firstNs).reduce(minNs).toString(),
      last_ns: froms.map((from) => from.lastNs).reduce(maxNs).toString(),
      latencies_ns: samples ? froms.flatMap((from) => from.latencies) : undefined
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Publishes msg.count messages through node.publish(bytes) (a promise that
// rejects when the node refuses). Paced: one every 1/rate s on a fixed
// schedule (a late one does not shift the rest). Unpaced: `window` in flight.
async function publishPhase (node, msg) {
  const count = msg.count
  const size = msg.size ?? 256
  const rate = msg.rate ?? 0
  const window = Math.max(1, msg.window ?? 1)
  const publisher = msg.publisher ?? 0
  let published = 0
  let refused = 0
  let lastError = null
  const publishOne = async (seq) => {
    try {
      await node.publish(makePayload(msg.phase, publisher, seq, size))
      published++
    } catch (err) {
      refused++
      lastError = err.message ?? String(err)
    }
  }
  const firstNs = monotonicNs()
  if (rate > 0) {
    const intervalNs = 1e9 / rate
    const inFlight = new Set()
    for (let seq = 0; seq < count; seq++) {
      const dueNs = Number(monotonicNs() - firstNs)
      const waitMs = (seq * intervalNs - dueNs) / 1e6
      if (waitMs > 1) await sleep(waitMs)
      const p = publishOne(seq).finally(() => inFlight.delete(p))
      inFlight.add(p)
      if (inFlight.size >= 64) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
  } else {
    let next = 0
    const worker = async () => {
      while (next < count) await publishOne(next++)
    }
    await Promise.all(Array.from({ length: window }, worker))
  }
  return { published, refused, last_error: lastError, first_ns: firstNs.toString(), last_ns: monotonicNs().toString() }
}

function emit (object) {
  process.stdout.write(JSON.stringify(object) + '\n')
}

// node: { ready: {peer_id, addrs}, receiver: Receiver, publish(bytes),
//         subscribe(), dial(addrs) (optional), status(), stop() }
export function runPeer (node) {
  emit({ event: 'ready', ...node.ready })
  const handlers = {
    dial: async (msg) => {
      if (node.dial == null) throw new Error('this peer does not dial')
      return { connected: await node.dial(msg.addrs ?? []) }
    },
    subscribe: async () => {
      await node.subscribe()
      return {}
    },
    status: async () => node.status(),
    publish: (msg) => publishPhase(node, msg),
    collect: async (msg) => node.receiver.report(msg.phase, msg.samples === true, msg.exclude_publisher)
  }
  const lines = createInterface({ input: process.stdin })
  lines.on('line', async (line) => {
    let msg
    try {
      msg = JSON.parse(line)
    } catch (err) {
      emit({ event: 'error', message: `not JSON: ${err.message}` })
      return
    }
    if (msg.cmd === 'stop') {
      await node.stop().catch(() => {})
      emit({ event: 'stopped', id: msg.id })
      process.exit(0)
    }
    const handler = handlers[msg.cmd]
    try {
      if (handler == null) throw new Error(`unknown command ${msg.cmd}`)
      emit({ event: msg.cmd, id: msg.id, ...(await handler(msg)) })
    } catch (err) {
      emit({ event: 'error', cmd: msg.cmd, id: msg.id, message: err.message ?? String(err) })
    }
  })
  lines.on('close', () => {
    node.stop().catch(() => {}).finally(() => process.exit(0))
  })
}
