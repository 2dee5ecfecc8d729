import Dispatch

/// Runs `prepare` on each of `chunks` one chunk ahead of `write`: while this thread writes
/// chunk k, another thread prepares chunk k + 1. `write` sees the chunks in order, each with
/// what `prepare` made of it. For a writer that must stay on one connection while the work
/// before it can run anywhere.
func pipelined<Chunk: Sendable, Prepared: Sendable>(
    _ chunks: [Chunk], prepare: @escaping @Sendable (Chunk) -> Prepared, write: (Chunk, Prepared) throws -> Void
) rethrows {
    guard !chunks.isEmpty else { return }
    var next = Ahead { prepare(chunks[0]) }
    // A throwing `write` still waits for the chunk in flight, so nothing outlives the call.
    defer { _ = next.value }
    for index in chunks.indices {
        let prepared = next.value
        if index + 1 < chunks.count {
            let following = chunks[index + 1]
            next = Ahead { prepare(following) }
        }
        try write(chunks[index], prepared)
    }
}

/// A value computed on another thread; reading `value` waits for it.
private final class Ahead<Value: Sendable>: @unchecked Sendable {
    // Written once, on the other thread, before `done` is signalled; read only after waiting.
    private var result: Value?
    private let done = DispatchSemaphore(value: 0)
    private var waited = false

    init(_ compute: @escaping @Sendable () -> Value) {
        DispatchQueue.global().async {
            self.result = compute()
            self.done.signal()
        }
    }

    var value: Value {
        if !waited {
            done.wait()
            waited = true
        }
        return result!
    }
}
