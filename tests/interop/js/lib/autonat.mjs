// AutoNAT v1 commands of peer.mjs (with --autonat): "autonat-dial" asks a
// peer to dial us back, speaking /libp2p/autonat/1.0.0 with
// @libp2p/autonat's own protobuf codec, and reports the DIAL_RESPONSE as
// js decoded it. (js's AutoNAT service asks by itself only about public
// addresses, so on loopback a test has to ask explicitly.)
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pbStream } from '@libp2p/utils'

const here = dirname(fileURLToPath(import.meta.url))
// The package exports only its service; its generated codec lives beside it.
const { Message } = await import(join(here, '..', 'node_modules', '@libp2p', 'autonat', 'dist', 'src', 'pb', 'index.js'))

const protocol = '/libp2p/autonat/1.0.0'

export const autonatCommands = {
  // {"cmd":"autonat-dial","peer":"12D3...","addrs":["/ip4/..."]}; addrs
  // default to our listen addresses.
  async 'autonat-dial' (ctx, msg, signal) {
    if (typeof msg.peer !== 'string') throw new Error('"autonat-dial" needs "peer"')
    const addrs = Array.isArray(msg.addrs) ? msg.addrs : ctx.node.getMultiaddrs().map((addr) => addr.toString())
    const stream = await ctx.node.dialProtocol(ctx.peerIdFromString(msg.peer), protocol, { signal })
    const messages = pbStream(stream, { maxDataLength: 8192 }).pb(Message)
    await messages.write({
      type: Message.MessageType.DIAL,
      dial: {
        peer: {
          id: ctx.node.peerId.toMultihash().bytes,
          addrs: addrs.map((addr) => ctx.multiaddr(addr).decapsulateCode(421).bytes)
        }
      }
    }, { signal })
    const response = await messages.read({ signal })
    await stream.close({ signal })
    const answer = response.dialResponse ?? {}
    return {
      type: response.type,
      status: answer.status ?? null,
      status_text: answer.statusText ?? null,
      addr: answer.addr == null ? null : ctx.multiaddr(answer.addr).toString()
    }
  }
}
