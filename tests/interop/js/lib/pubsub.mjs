// Gossipsub commands of peer.mjs (with --gossipsub) and the
// "pubsub:message" event for every message js delivers.
//
// Message data travels as hex ("data_hex") so any bytes survive the JSON
// lines; "data" (text, UTF-8) is accepted on publish for convenience.
// Message ids are reported as js computes them (StrictSign: protobuf public
// key ‖ 8-byte seqno), in hex.
import * as format from './format.mjs'

// Messages published but whose id js has not computed yet: keyed by the data
// array itself, which js hands unchanged to its message-id function.
const publishedIds = new WeakMap()

function pubsubOf (ctx) {
  const pubsub = ctx.node.services.pubsub
  if (pubsub == null) throw new Error('gossipsub is off: start peer.mjs with --gossipsub')
  return pubsub
}

function topicOf (msg) {
  if (typeof msg.topic !== 'string' || msg.topic === '') throw new Error(`"${msg.cmd}" needs "topic" (a non-empty string)`)
  return msg.topic
}

function dataOf (msg) {
  if (typeof msg.data_hex === 'string') {
    if (!/^([0-9a-fA-F]{2})*$/.test(msg.data_hex)) throw new Error('"data_hex" must be an even number of hex digits')
    return Uint8Array.from(Buffer.from(msg.data_hex, 'hex'))
  }
  if (typeof msg.data === 'string') return Uint8Array.from(Buffer.from(msg.data, 'utf8'))
  throw new Error('"publish" needs "data_hex" (hex bytes) or "data" (text)')
}

const idHex = (msgIdStr) => Buffer.from(msgIdStr, 'base64').toString('hex')

// Reports every message js delivers to the application, and learns the id js
// gives each message this peer publishes. Called once, after the node starts.
export function watchPubsub (ctx) {
  const pubsub = ctx.node.services.pubsub
  if (pubsub == null) return
  // js exposes no id for a published message; record it when js computes it.
  const computeId = pubsub.msgIdFn
  pubsub.msgIdFn = async (message) => {
    const id = await computeId(message)
    if (publishedIds.has(message.data)) {
      publishedIds.set(message.data, { id: format.hex(id), seqno: message.sequenceNumber?.toString() ?? null })
    }
    return id
  }
  pubsub.addEventListener('gossipsub:message', (evt) => {
    const { propagationSource, msgId, msg } = evt.detail
    ctx.emit({
      event: 'pubsub:message',
      topic: msg.topic,
      from: msg.type === 'signed' ? msg.from.toString() : null,
      seqno: msg.type === 'signed' ? msg.sequenceNumber.toString() : null,
      data_hex: format.hex(msg.data),
      msg_id: idHex(msgId),
      // The peer that handed the message to js (not always its author).
      via: propagationSource.toString()
    })
  })
}

export const pubsubCommands = {
  // {"cmd":"subscribe","topic":T} -> {"event":"subscribe","topics":[...]}
  async subscribe (ctx, msg) {
    const pubsub = pubsubOf(ctx)
    pubsub.subscribe(topicOf(msg))
    return { topics: pubsub.getTopics() }
  },

  // {"cmd":"unsubscribe","topic":T} -> {"event":"unsubscribe","topics":[...]}
  async unsubscribe (ctx, msg) {
    const pubsub = pubsubOf(ctx)
    pubsub.unsubscribe(topicOf(msg))
    return { topics: pubsub.getTopics() }
  },

  // {"cmd":"publish","topic":T,"data_hex"|"data":D} -> {"event":"publish",
  // "recipients":[peer ids],"msg_id","seqno","bytes"}. js refuses to publish
  // to a topic no peer has subscribed to (PublishError.NoPeersSubscribedToTopic).
  async publish (ctx, msg) {
    const pubsub = pubsubOf(ctx)
    const topic = topicOf(msg)
    const data = dataOf(msg)
    publishedIds.set(data, null)
    const result = await pubsub.publish(topic, data)
    const published = publishedIds.get(data)
    return {
      recipients: result.recipients.map((peer) => peer.toString()).sort(),
      msg_id: published?.id ?? null,
      seqno: published?.seqno ?? null,
      bytes: data.length
    }
  },

  // {"cmd":"pubsub_peers","topic":T} -> {"event":"pubsub_peers","subscribers":[...],
  // "mesh":[...],"peers":[...]}: peers js knows to be subscribed to T, its
  // mesh for T, and every peer it speaks gossipsub with.
  async pubsub_peers (ctx, msg) {
    const pubsub = pubsubOf(ctx)
    const topic = topicOf(msg)
    return {
      subscribers: pubsub.getSubscribers(topic).map((peer) => peer.toString()).sort(),
      mesh: [...pubsub.getMeshPeers(topic)].sort(),
      peers: pubsub.getPeers().map((peer) => peer.toString()).sort()
    }
  }
}
