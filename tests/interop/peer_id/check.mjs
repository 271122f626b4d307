// Reads taho's peer ids from stdin and checks each against js-libp2p's.
//
// Input lines (fields separated by spaces, '#' starts a comment line):
//   seed <ed25519_seed_hex> <peer_id_text> [<multihash_hex> <cid_text>]
//   key <public_key_protobuf_hex> <peer_id_text>
// A bare "<seed_hex> <peer_id_text>" line is read as a seed line.
// Exit status 0 when every line matches, 1 otherwise.
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
if (!existsSync(join(here, 'node_modules', '@libp2p', 'peer-id')) ||
    !existsSync(join(here, 'node_modules', '@libp2p', 'crypto'))) {
  console.error(`check.mjs: ${join(here, 'node_modules')} is missing: run scripts/setup ` +
                `(or 'npm install' in ${here}) first`)
  process.exit(1)
}

// js-libp2p 3.x expects Node >= 22; give Node 20 what it lacks (INTEROP-NOTES.md).
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

const { generateKeyPairFromSeed, publicKeyFromProtobuf } = await import('@libp2p/crypto/keys')
const { peerIdFromMultihash, peerIdFromPrivateKey, peerIdFromString } = await import('@libp2p/peer-id')

const toHex = (bytes) => Buffer.from(bytes).toString('hex')
const fromHex = (hex) => {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error(`not lowercase hex: ${hex}`)
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

let checked = 0
let failures = 0
const fail = (lineNumber, message) => {
  failures++
  console.error(`line ${lineNumber}: MISMATCH: ${message}`)
}

// Our text must parse in js to the same multihash bytes js derives itself.
function checkParsesBack (lineNumber, jsId, ourText) {
  const parsed = peerIdFromString(ourText)
  const parsedBytes = toHex(parsed.toMultihash().bytes)
  const jsBytes = toHex(jsId.toMultihash().bytes)
  if (parsedBytes !== jsBytes) fail(lineNumber, `peerIdFromString(${ourText}) has multihash ${parsedBytes}, js derived ${jsBytes}`)
  if (!parsed.equals(jsId)) fail(lineNumber, `peerIdFromString(${ourText}) is not equal to the js peer id`)
}

async function checkSeed (lineNumber, fields) {
  const [seedHex, ourText, ourMultihashHex, ourCid] = fields
  const seed = fromHex(seedHex)
  if (seed.length !== 32) throw new Error(`seed must be 32 bytes, got ${seed.length}`)
  const key = await generateKeyPairFromSeed('Ed25519', seed)
  const jsId = peerIdFromPrivateKey(key)
  if (jsId.toString() !== ourText) fail(lineNumber, `seed ${seedHex}: js says ${jsId.toString()}, taho says ${ourText}`)
  checkParsesBack(lineNumber, jsId, ourText)
  if (ourMultihashHex !== undefined && toHex(jsId.toMultihash().bytes) !== ourMultihashHex) {
    fail(lineNumber, `multihash: js ${toHex(jsId.toMultihash().bytes)}, taho ${ourMultihashHex}`)
  }
  if (ourCid !== undefined) {
    if (jsId.toCID().toString() !== ourCid) fail(lineNumber, `CID text: js ${jsId.toCID().toString()}, taho ${ourCid}`)
    checkParsesBack(lineNumber, jsId, ourCid)
  }
}

function checkKey (lineNumber, fields) {
  const [protobufHex, ourText] = fields
  // peerIdFromPublicKey refuses ECDSA keys, but every key knows its multihash.
  const jsId = peerIdFromMultihash(publicKeyFromProtobuf(fromHex(protobufHex)).toMultihash())
  if (jsId.toString() !== ourText) fail(lineNumber, `key ${protobufHex.slice(0, 16)}...: js says ${jsId.toString()}, taho says ${ourText}`)
  checkParsesBack(lineNumber, jsId, ourText)
}

let lineNumber = 0
for await (const line of createInterface({ input: process.stdin })) {
  lineNumber++
  const trimmed = line.trim()
  if (trimmed === '' || trimmed.startsWith('#')) continue
  let fields = trimmed.split(/\s+/)
  let kind = 'seed'
  if (fields[0] === 'seed' || fields[0] === 'key') kind = fields.shift()
  try {
    if (kind === 'seed') await checkSeed(lineNumber, fields)
    else checkKey(lineNumber, fields)
  } catch (error) {
    fail(lineNumber, `${error.message} (line: ${trimmed})`)
  }
  checked++
}

if (checked === 0) {
  console.error('check.mjs: no peer ids on stdin (did print_peer_ids fail?)')
  process.exit(1)
}
console.log(`check.mjs: ${checked} peer ids checked against @libp2p/peer-id, ${failures} mismatches`)
process.exit(failures === 0 ? 0 : 1)
