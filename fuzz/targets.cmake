# Every libFuzzer target, one per parser of bytes from the network or disk.
# Each has fuzz/<name>.cpp and a seed corpus in fuzz/corpus/<name>/.
set(TAHO_FUZZ_TARGETS
  outboard_proof
  varint
  protobuf
  multiaddr
  peer_id
  multistream
  yamux
  noise_handshake
  identify
  swarm_inbound
  gossipsub_rpc
  kad_message
  tls_certificate
  blob_message
  blob_client
  blob_announcement
  rendezvous_message
  autonat_message
  mdns_message
  dnsaddr_resolution
)
