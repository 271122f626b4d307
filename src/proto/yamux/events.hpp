// What a Yamux session reports to its owner through poll_event(). Stream
// events are edge-triggered: one StreamReadable until read() has drained the
// stream, one StreamWritable after a write() that was cut short.
#pragma once

#include <variant>

#include "base/time.hpp"
#include "proto/yamux/errors.hpp"
#include "proto/yamux/frame.hpp"

namespace taho::yamux {

struct StreamIncoming { StreamId stream; };  // take it with accept_stream()
struct StreamReadable { StreamId stream; };  // data, or the end of the stream, to read()
struct StreamWritable { StreamId stream; };  // a blocked write() can make progress
struct StreamReset { StreamId stream; };     // the peer reset it; the id is gone
struct StreamClosed { StreamId stream; };    // both directions finished; the id is gone
struct PingRtt { Duration rtt; };            // an answer to our ping
struct GoAwayReceived { GoAwayCode code; };  // the peer opens no more streams and takes none
struct SessionClosed { SessionError error; };  // the last event; every stream is gone

using Event = std::variant<StreamIncoming, StreamReadable, StreamWritable, StreamReset, StreamClosed, PingRtt,
                           GoAwayReceived, SessionClosed>;

}  // namespace taho::yamux
