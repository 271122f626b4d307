// Kademlia DHT commands of peer.mjs (with --kad). A key is a CID in its text
// form; like every libp2p DHT, js looks it up by the CID's multihash bytes.
//
// Each query reports who answered and which peers failed, so a test can tell
// "nobody had it" from "the remote broke the exchange".
import { CID } from 'multiformats/cid'

// A query's error list stays short even when many peers fail.
const queryErrorsMax = 32

function dhtOf (ctx) {
  const dht = ctx.node.services.dht
  if (dht == null) throw new Error('kad-dht is off: start peer.mjs with --kad')
  return dht
}

function cidOf (msg) {
  if (typeof msg.cid !== 'string') throw new Error(`"${msg.cmd}" needs "cid" (a CID in text form)`)
  try {
    return CID.parse(msg.cid)
  } catch (err) {
    throw new Error(`"cid" is not a CID: ${err.message}`)
  }
}

const peerInfo = (info) => ({ peer: info.id.toString(), addrs: info.multiaddrs.map((addr) => addr.toString()) })

// Follows a query's events: peers that answered, failures, and what the
// caller picks out of each event.
async function follow (events, onEvent) {
  const responded = new Set()
  const errors = []
  for await (const event of events) {
    if (event.name === 'PEER_RESPONSE') responded.add(event.from.toString())
    if (event.name === 'QUERY_ERROR' && errors.length < queryErrorsMax) {
      errors.push({ peer: event.from.toString(), message: event.error?.message ?? String(event.error) })
    }
    if (onEvent(event) === 'stop') break
  }
  return { responded: [...responded].sort(), errors }
}

export const dhtCommands = {
  // {"cmd":"dht_provide","cid":C} -> {"event":"dht_provide","announced_to":[...],
  // "responded":[...],"errors":[...]}: the peers js sent ADD_PROVIDER to.
  async dht_provide (ctx, msg, signal) {
    const announced = new Set()
    const result = await follow(dhtOf(ctx).provide(cidOf(msg), { signal }), (event) => {
      if (event.name === 'PEER_RESPONSE' && event.messageName === 'ADD_PROVIDER') announced.add(event.from.toString())
    })
    return { announced_to: [...announced].sort(), ...result }
  },

  // {"cmd":"dht_find_providers","cid":C[,"until_peer":P]} -> {"event":
  // "dht_find_providers","providers":[{peer,addrs,from}],"responded","errors"}:
  // every provider found until the query ends or the command times out
  // (then with "timed_out":true). With "until_peer", stops once P is found.
  async dht_find_providers (ctx, msg, signal) {
    const providers = new Map()
    let timedOut = false
    let result = { responded: [], errors: [] }
    try {
      result = await follow(dhtOf(ctx).findProviders(cidOf(msg), { signal }), (event) => {
        if (event.name !== 'PEER_RESPONSE' && event.name !== 'PROVIDER') return
        for (const info of event.providers ?? []) {
          const found = peerInfo(info)
          if (!providers.has(found.peer)) providers.set(found.peer, { ...found, from: event.from.toString() })
        }
        if (typeof msg.until_peer === 'string' && providers.has(msg.until_peer)) return 'stop'
      })
    } catch (err) {
      if (!signal.aborted) throw err
      timedOut = true
    }
    return { providers: [...providers.values()], ...result, timed_out: timedOut }
  },

  // {"cmd":"dht_find_peer","peer":P} -> {"event":"dht_find_peer","peer",
  // "addrs","from","responded","errors"}: P's addresses as the DHT reports
  // them (FINAL_PEER); an error if no peer knew P.
  async dht_find_peer (ctx, msg, signal) {
    if (typeof msg.peer !== 'string') throw new Error('"dht_find_peer" needs "peer" (a peer id)')
    const wanted = ctx.peerIdFromString(msg.peer)
    let found = null
    const result = await follow(dhtOf(ctx).findPeer(wanted, { signal }), (event) => {
      if (event.name === 'FINAL_PEER' && event.peer.id.equals(wanted)) {
        found = { ...peerInfo(event.peer), from: event.from.toString() }
        return 'stop'
      }
    })
    if (found == null) throw new Error(`no peer knew ${msg.peer}: ${JSON.stringify(result)}`)
    return { ...found, ...result }
  },

  // {"cmd":"dht_routing_table"} -> {"event":"dht_routing_table","mode",
  // "size","peers":[...]}
  async dht_routing_table (ctx) {
    const dht = dhtOf(ctx)
    const table = dht.routingTable
    const peers = table.kb == null ? [] : [...table.kb.toIterable()].map((entry) => entry.peerId.toString()).sort()
    return { mode: dht.getMode(), size: table.size, peers }
  }
}
