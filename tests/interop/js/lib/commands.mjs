// The core commands of peer.mjs. Each takes the peer's context, the parsed
// command line and an AbortSignal (the command's timeout), and returns the
// fields of its reply; peer.mjs adds "event" (the command's name) and "id"
// (echoed from the command) and turns a throw into an "error" event.
//
// Later protocols (gossipsub, kad-dht, mDNS) add their own table in a file
// beside this one and list it in peer.mjs's commandTables.
import * as format from './format.mjs'

// A command names its remote by "addr" (a multiaddr, dialled if needed) or
// "peer" (a peer id that must be known or connected already).
export function target (ctx, msg) {
  if (typeof msg.addr === 'string') return ctx.multiaddr(msg.addr)
  if (typeof msg.peer === 'string') return ctx.peerIdFromString(msg.peer)
  throw new Error(`"${msg.cmd}" needs "addr" (a multiaddr) or "peer" (a peer id)`)
}

// An open connection to the remote named by the command, dialling an addr.
async function connectionFor (ctx, msg, signal) {
  if (typeof msg.addr === 'string') return ctx.node.dial(ctx.multiaddr(msg.addr), { signal })
  const peer = target(ctx, msg)
  const open = ctx.node.getConnections(peer).filter((conn) => conn.status === 'open')
  if (open.length === 0) throw new Error(`no open connection to ${peer.toString()}`)
  return open[0]
}

export const coreCommands = {
  // {"cmd":"dial","addr":...} -> {"event":"dial","peer","addr","direction","conn_id"}
  async dial (ctx, msg, signal) {
    if (typeof msg.addr !== 'string') throw new Error('"dial" needs "addr"')
    return format.connection(await ctx.node.dial(ctx.multiaddr(msg.addr), { signal }))
  },

  // {"cmd":"hangup","peer"|"addr":...} -> {"event":"hangup"}
  async hangup (ctx, msg, signal) {
    await ctx.node.hangUp(target(ctx, msg), { signal })
    return {}
  },

  // {"cmd":"ping","peer"|"addr":...} -> {"event":"ping","rtt_ms"}
  async ping (ctx, msg, signal) {
    const rtt = await ctx.node.services.ping.ping(target(ctx, msg), { signal })
    return { rtt_ms: rtt }
  },

  // {"cmd":"identify","peer"|"addr":...[,"fresh":true]} -> {"event":"identify",
  // "peer","protocol_version","agent","protocols","listen_addrs",
  // "observed_addr","public_key","signed_peer_record"}: what js learnt from
  // the remote's identify, waiting for it if it has not arrived yet. With
  // "fresh", js runs identify again on an open connection (js serves one
  // identify stream per connection at a time, so not while the automatic one
  // runs).
  async identify (ctx, msg, signal) {
    if (msg.fresh === true) {
      const conn = await connectionFor(ctx, msg, signal)
      return format.identifyResult(await ctx.node.services.identify.identify(conn, { signal }))
    }
    const peer = typeof msg.addr === 'string'
      ? (await ctx.node.dial(ctx.multiaddr(msg.addr), { signal })).remotePeer.toString()
      : target(ctx, msg).toString()
    return ctx.identified.wait(peer, signal)
  },

  // {"cmd":"peers"} -> {"event":"peers","peers":[{"peer","addrs":[...]}]}
  async peers (ctx) {
    const byPeer = new Map()
    for (const conn of ctx.node.getConnections()) {
      const id = conn.remotePeer.toString()
      if (!byPeer.has(id)) byPeer.set(id, [])
      byPeer.get(id).push(conn.remoteAddr.toString())
    }
    return { peers: [...byPeer].map(([peer, addrs]) => ({ peer, addrs })) }
  },

  // {"cmd":"info"} -> {"event":"info","peer_id","addrs","protocols"}
  async info (ctx) {
    return {
      peer_id: ctx.node.peerId.toString(),
      addrs: format.addrs(ctx.node.getMultiaddrs()),
      protocols: [...ctx.node.getProtocols()].sort()
    }
  }
}
