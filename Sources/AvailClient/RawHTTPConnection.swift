import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain HTTP/1.1 connection over one blocking TCP socket to a loopback server, no HTTP
/// client in between: for tests that must control the bytes on the wire (a body announced but
/// never sent, one that never ends, a client that never reads) where an HTTP client would not,
/// and for availd-sim's load generator, which like wrk sends prebuilt requests and reads just
/// enough of each response (status line, Content-Length, body) to know it is complete.
///
/// Used one of two ways, never both on one connection: from Swift concurrency (`send`,
/// `receive`, `readUntilClosed`), each call running on the connection's own dispatch queue,
/// never on the cooperative threads (blocking those would starve an in-process server of the
/// threads it needs to answer); or from one thread of its own (`roundTrip`, which blocks).
/// `@unchecked Sendable`: the state (the descriptor, the read buffer) is used either only on
/// `queue` or only by the one thread that owns the connection.
public final class RawHTTPConnection: @unchecked Sendable {
    private let host: String
    private let port: Int
    private let receiveTimeout: Double
    private let timesOutSends: Bool
    private let receiveBufferBytes: Int?
    private let noDelay: Bool
    private var descriptor: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private let queue = DispatchQueue(label: "RawHTTPConnection")

    public enum Failure: Error, CustomStringConvertible {
        case socket(String)

        public var description: String {
            switch self {
            case .socket(let reason): reason
            }
        }
    }

    private init(host: String, port: Int, receiveTimeout: Double, timesOutSends: Bool, receiveBufferBytes: Int?, noDelay: Bool) {
        self.host = host
        self.port = port
        self.receiveTimeout = receiveTimeout
        self.timesOutSends = timesOutSends
        self.receiveBufferBytes = receiveBufferBytes
        self.noDelay = noDelay
    }

    /// Connected now, for tests: sends and receives each bounded by `receiveTimeout`;
    /// `receiveBufferBytes` shrinks the socket's receive buffer, for a client that reads little.
    public convenience init(port: Int, receiveTimeout: Double = 10, receiveBufferBytes: Int? = nil) throws {
        self.init(host: "127.0.0.1", port: port, receiveTimeout: receiveTimeout, timesOutSends: true,
                  receiveBufferBytes: receiveBufferBytes, noDelay: false)
        try connect()
    }

    /// Connected by the first `roundTrip`, as a load generator wants: no Nagle delay, each
    /// receive bounded by `receiveTimeout`, sends not bounded.
    public static func keptAlive(host: String, port: Int, receiveTimeout: Double = 30) -> RawHTTPConnection {
        RawHTTPConnection(host: host, port: port, receiveTimeout: receiveTimeout, timesOutSends: false, receiveBufferBytes: nil, noDelay: true)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    private func connect() throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure.socket("socket: errno \(errno)") }
        if noDelay { setOption(Int32(IPPROTO_TCP), TCP_NODELAY, Int32(1)) }
        if let receiveBufferBytes { setOption(SOL_SOCKET, SO_RCVBUF, Int32(receiveBufferBytes)) }
        let timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: 0)
        setOption(SOL_SOCKET, SO_RCVTIMEO, timeout)
        if timesOutSends { setOption(SOL_SOCKET, SO_SNDTIMEO, timeout) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = errno
            reset()
            throw Failure.socket("connect: errno \(error)")
        }
    }

    private func setOption<Value>(_ level: Int32, _ name: Int32, _ value: Value) {
        var value = value
        setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Value>.size))
    }

    private func reset() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }

    // MARK: From Swift concurrency

    /// Sends `bytes`; false once the peer has closed or reset the connection (or stopped reading).
    @discardableResult
    public func send(_ bytes: Data) async -> Bool {
        await onQueue { self.sendNow(Array(bytes)) }
    }

    @discardableResult
    public func send(_ text: String) async -> Bool {
        await send(Data(text.utf8))
    }

    /// True when the server has something for us (an early response), without blocking.
    public var hasDataToRead: Bool {
        var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptors, 1, 0) > 0
    }

    /// The first `count` bytes the server sent (fewer after `timeout` seconds), left unread:
    /// what a client that never reads has been answered.
    public func peek(until count: Int, timeout: Double) async -> Data {
        await onQueue { self.peekNow(until: count, timeout: timeout) }
    }

    private func peekNow(until count: Int, timeout: Double) -> Data {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let peeked = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, min(count, $0.count), Int32(MSG_PEEK | MSG_DONTWAIT)) }
            if peeked >= count || Date() >= deadline { return Data(buffer[0..<max(0, peeked)]) }
            var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptors, 1, 10)
        }
    }

    /// Reads one response: until it is complete, the peer closes, the timeout passes, or
    /// `limit` bytes arrived.
    public func receive(limit: Int = 1 << 20) async -> Data {
        await onQueue { Data(self.receiveNow(limit: limit).bytes) }
    }

    /// Reads until the server closes the connection (true) or `timeout` seconds pass without it
    /// (false); with everything that arrived meanwhile.
    public func readUntilClosed(timeout: Double) async -> (bytes: Data, closed: Bool) {
        await onQueue { self.readUntilClosedNow(timeout: timeout) }
    }

    /// Reads until `marker` arrived (found), the server closes the connection (closed), or
    /// `timeout` seconds pass; with everything that arrived meanwhile. For answers with no
    /// length, such as an event stream.
    public func read(until marker: String, timeout: Double) async -> (bytes: Data, found: Bool, closed: Bool) {
        await onQueue { self.readNow(until: Data(marker.utf8), timeout: timeout) }
    }

    private func readUntilClosedNow(timeout: Double) -> (bytes: Data, closed: Bool) {
        let (bytes, _, closed) = readNow(until: nil, timeout: timeout)
        return (bytes, closed)
    }

    private func readNow(until marker: Data?, timeout: Double) -> (bytes: Data, found: Bool, closed: Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        var received = Data()
        while Date() < deadline {
            var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&descriptors, 1, remaining) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if count <= 0 { return (received, false, true) }
            received.append(contentsOf: buffer[0..<count])
            if let marker, received.range(of: marker) != nil { return (received, true, false) }
        }
        return (received, false, false)
    }

    // MARK: From a thread of its own

    /// Sends `request` (a whole HTTP/1.1 request) and returns the response's status code.
    /// Connects if need be, and reconnects once if the kept-alive connection was closed.
    public func roundTrip(_ request: [UInt8]) throws -> Int {
        do {
            return try attempt(request)
        } catch {
            reset()
            return try attempt(request)
        }
    }

    private func attempt(_ request: [UInt8]) throws -> Int {
        if descriptor < 0 { try connect() }
        guard sendNow(request) else { throw Failure.socket("send: errno \(errno)") }
        let (response, complete) = receiveNow(limit: .max)
        guard complete else { throw Failure.socket("connection closed") }
        guard response.count >= 12 else { throw Failure.socket("short response") }
        return Int(response[9] - 48) * 100 + Int(response[10] - 48) * 10 + Int(response[11] - 48)
    }

    // MARK: Bytes

    private func sendNow(_ bytes: [UInt8]) -> Bool {
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

    /// One response's bytes, and whether it is complete: read until it is, the peer closes, a
    /// receive times out, or `limit` bytes arrived.
    private func receiveNow(limit: Int) -> (bytes: ArraySlice<UInt8>, complete: Bool) {
        var filled = 0
        var end: Int?
        while filled < limit {
            if filled == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + filled, $0.count - filled, 0) }
            if count <= 0 { break }
            filled += count
            if end == nil { end = Self.responseLength(buffer[0..<filled]) }
            if let end, filled >= end { return (buffer[0..<filled], true) }
        }
        return (buffer[0..<filled], false)
    }

    /// The length of the response `head` begins, once its head is complete: the head and its
    /// Content-Length, or the head alone for a status without a body; nil until the head is in,
    /// or when only the peer's close can end the response.
    private static func responseLength(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard let headEnd = find([13, 10, 13, 10], in: bytes) else { return nil }
        let head = String(decoding: bytes[bytes.startIndex..<headEnd], as: UTF8.self).lowercased()
        let bodyStart = headEnd + 4 - bytes.startIndex
        if let range = head.range(of: "\r\ncontent-length:") {
            let digits = head[range.upperBound...].drop(while: { $0 == " " }).prefix(while: \.isNumber)
            return Int(digits).map { bodyStart + $0 }
        }
        let status = head.dropFirst("http/1.1 ".count).prefix(3)
        return status.hasPrefix("1") || status == "204" || status == "304" ? bodyStart : nil
    }

    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index <= haystack.endIndex - needle.count {
            if haystack[index] == needle[0], haystack[index + 1] == needle[1], haystack[index + 2] == needle[2], haystack[index + 3] == needle[3] {
                return index
            }
            index += 1
        }
        return nil
    }
}
