// The latest identify result js got from each peer, and the commands
// waiting for one. Bounded: a test node meets a handful of peers, but a
// long-running one must not grow without end.
const peersMax = 1024

export class Identified {
  #results = new Map()  // peer id text -> formatted identify result
  #waiters = new Map()  // peer id text -> [resolve]

  record (result) {
    this.#results.delete(result.peer)
    this.#results.set(result.peer, result)
    if (this.#results.size > peersMax) this.#results.delete(this.#results.keys().next().value)
    for (const resolve of this.#waiters.get(result.peer) ?? []) resolve(result)
    this.#waiters.delete(result.peer)
  }

  wait (peer, signal) {
    const known = this.#results.get(peer)
    if (known != null) return Promise.resolve(known)
    return new Promise((resolve, reject) => {
      const waiters = this.#waiters.get(peer) ?? []
      waiters.push(resolve)
      this.#waiters.set(peer, waiters)
      signal.addEventListener('abort', () => {
        const left = (this.#waiters.get(peer) ?? []).filter((w) => w !== resolve)
        if (left.length === 0) this.#waiters.delete(peer); else this.#waiters.set(peer, left)
        reject(new Error(`no identify result from ${peer} before the timeout`))
      }, { once: true })
    })
  }
}
