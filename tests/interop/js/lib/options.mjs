// Command-line flags of peer.mjs. Every flag has a default that gives a stock
// js-libp2p node, so a test only names what it changes.
import { parseArgs } from 'node:util'

export const usage = `usage: node peer.mjs [flags]
  --tcp                       listen on /ip4/127.0.0.1/tcp/0
  --ws                        listen on /ip4/127.0.0.1/tcp/0/ws
  --quic                      add the QUIC transport (@chainsafe/libp2p-quic) and listen on /ip4/127.0.0.1/udp/0/quic-v1
  --listen <multiaddr>        listen on this address (repeatable)
  --seed <hex>                Ed25519 private key seed (32 bytes hex) for a fixed peer id
  --agent <text>              identify agentVersion (default: js-libp2p's own)
  --gossipsub                 enable the @libp2p/gossipsub service
  --kad                       enable the @libp2p/kad-dht service (server mode, keeps loopback addresses)
  --kad-protocol <id>         kad protocol id (default /ipfs/kad/1.0.0)
  --autonat                   enable the @libp2p/autonat (v1) service; adds the autonat-dial command
  --mdns                      enable @libp2p/mdns discovery (a query every 1 s); emits peer:discovery events
  --no-connection-monitor     do not ping every connection every 10 s
  --inbound-threshold <n>     new inbound connections allowed per second per IP (js default: 5)
  --startup-timeout-ms <n>    give up starting after this long (default 20000)
  --command-timeout-ms <n>    default timeout of each command (default 20000)
  --help`

export function parseOptions (argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      tcp: { type: 'boolean', default: false },
      ws: { type: 'boolean', default: false },
      quic: { type: 'boolean', default: false },
      listen: { type: 'string', multiple: true, default: [] },
      seed: { type: 'string' },
      agent: { type: 'string' },
      gossipsub: { type: 'boolean', default: false },
      kad: { type: 'boolean', default: false },
      'kad-protocol': { type: 'string', default: '/ipfs/kad/1.0.0' },
      mdns: { type: 'boolean', default: false },
      autonat: { type: 'boolean', default: false },
      'no-connection-monitor': { type: 'boolean', default: false },
      'inbound-threshold': { type: 'string' },
      'startup-timeout-ms': { type: 'string', default: '20000' },
      'command-timeout-ms': { type: 'string', default: '20000' },
      help: { type: 'boolean', default: false }
    }
  })
  const listen = [...values.listen]
  if (values.tcp) listen.push('/ip4/127.0.0.1/tcp/0')
  if (values.ws) listen.push('/ip4/127.0.0.1/tcp/0/ws')
  if (values.quic) listen.push('/ip4/127.0.0.1/udp/0/quic-v1')
  if (values.seed != null && !/^[0-9a-fA-F]{64}$/.test(values.seed)) {
    throw new Error('--seed wants 64 hex digits (a 32-byte Ed25519 seed)')
  }
  return {
    help: values.help,
    listen,
    quic: values.quic,
    seed: values.seed,
    agent: values.agent,
    gossipsub: values.gossipsub,
    kad: values.kad,
    kadProtocol: values['kad-protocol'],
    mdns: values.mdns,
    autonat: values.autonat,
    connectionMonitor: !values['no-connection-monitor'],
    inboundThreshold: optionalInteger(values['inbound-threshold'], '--inbound-threshold'),
    startupTimeoutMs: optionalInteger(values['startup-timeout-ms'], '--startup-timeout-ms'),
    commandTimeoutMs: optionalInteger(values['command-timeout-ms'], '--command-timeout-ms')
  }
}

function optionalInteger (text, flag) {
  if (text == null) return undefined
  if (!/^[0-9]+$/.test(text)) throw new Error(`${flag} wants a non-negative integer, not ${JSON.stringify(text)}`)
  return Number(text)
}
