import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a loopback server, for tests that must control the bytes on the
/// wire (a body announced but never sent, one that never ends) where an HTTP client would not.
///
/// The socket is blocking, so every call on it runs on the connection's own dispatch queue,
/// never on Swift concurrency's cooperative threads (blocking those would starve an in-process
/// server of the threads it needs to answer). `@unchecked Sendable`: the only state is the
/// descriptor, set once and used only on `queue`.
public final class RawHTTPConnection: @unchecked Sendable {
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "RawHTTPConnection")

    public enum Failure: Error {
        case socket(String)
    }

    public init(port: Int, receiveTimeout: Double = 10) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure.socket("socket: \(errno)") }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw Failure.socket("connect: \(errno)")
        }
    }

    deinit {
        close(descriptor)
    }

    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }

    /// Sends `bytes`; false once the peer has closed or reset the connection (or stopped reading).
    @discardableResult
    public func send(_ bytes: Data) async -> Bool {
        await onQueue { self.sendNow(bytes) }
    }

    @discardableResult
    public func send(_ text: String) async -> Bool {
        await send(Data(text.utf8))
    }

    private func sendNow(_ bytes: Data) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let sent = Glibc.send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    /// True when the server has something for us (an early response), without blocking.
    public var hasDataToRead: Bool {
        var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptors, 1, 0) > 0
    }

    /// Reads one response: until it is complete, the peer closes, the timeout passes, or
    /// `limit` bytes arrived.
    public func receive(limit: Int = 1 << 20) async -> Data {
        await onQueue { self.receiveNow(limit: limit) }
    }

    private func receiveNow(limit: Int) -> Data {
        var received = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while received.count < limit {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count <= 0 { break }
            received.append(contentsOf: chunk[0..<count])
            if let text = String(data: received, encoding: .utf8), Self.isComplete(text) { break }
        }
        return received
    }

    /// Reads until the server closes the connection (true) or `timeout` seconds pass without it
    /// (false); with everything that arrived meanwhile.
    public func readUntilClosed(timeout: Double) async -> (bytes: Data, closed: Bool) {
        await onQueue { self.readUntilClosedNow(timeout: timeout) }
    }

    private func readUntilClosedNow(timeout: Double) -> (bytes: Data, closed: Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        var received = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&descriptors, 1, remaining) > 0 else { continue }
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count <= 0 { return (received, true) }
            received.append(contentsOf: chunk[0..<count])
        }
        return (received, false)
    }

    /// A response whose head is complete and whose Content-Length bytes have arrived.
    private static func isComplete(_ text: String) -> Bool {
        guard let headEnd = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<headEnd.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return text[headEnd.upperBound...].utf8.count >= length
    }
}
