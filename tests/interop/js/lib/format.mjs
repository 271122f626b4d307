// How js-libp2p values appear in the JSON lines: peer ids and multiaddrs as
// their text form, bytes as lowercase hex, bigints as decimal strings.
export const hex = (bytes) => bytes == null ? null : Buffer.from(bytes).toString('hex')

export const addrs = (list) => (list ?? []).map((ma) => ma.toString())

export function identifyResult (result) {
  return {
    peer: result.peerId.toString(),
    protocol_version: result.protocolVersion ?? null,
    agent: result.agentVersion ?? null,
    protocols: [...(result.protocols ?? [])].sort(),
    listen_addrs: addrs(result.listenAddrs),
    observed_addr: result.observedAddr?.toString() ?? null,
    public_key: hex(result.publicKey),
    // Present only when js verified the remote's signed peer record.
    signed_peer_record: result.signedPeerRecord == null
      ? null
      : { seq: result.signedPeerRecord.seq.toString(), addrs: addrs(result.signedPeerRecord.addresses) }
  }
}

export function connection (conn) {
  return {
    peer: conn.remotePeer.toString(),
    addr: conn.remoteAddr.toString(),
    direction: conn.direction,
    conn_id: conn.id
  }
}
