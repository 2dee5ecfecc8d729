import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 keep-alive client over one blocking socket, used from one thread.
///
/// The load generator shares the machine with the daemon, so every microsecond it spends is
/// taken from availd: like wrk, it sends prebuilt request bytes and reads just enough of each
/// response (status line, Content-Length, body) to know it is complete.
final class BlockingHTTPConnection {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let host: String
    private let port: Int
    private var descriptor: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Sends `request` (a whole HTTP/1.1 request) and returns the response's status code.
    /// Reconnects once if the kept-alive connection was closed by the server.
    func roundTrip(_ request: [UInt8]) throws -> Int {
        do {
            return try attempt(request)
        } catch {
            reset()
            return try attempt(request)
        }
    }

    private func reset() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    private func attempt(_ request: [UInt8]) throws -> Int {
        if descriptor < 0 { try connect() }
        try request.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let sent = send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { throw Failure(description: "send: errno \(errno)") }
                offset += sent
            }
        }
        return try readResponse()
    }

    private func connect() throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var noDelay: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            reset()
            throw Failure(description: "connect: errno \(error)")
        }
    }

    /// Reads one response; returns its status. Expects Content-Length framing (availd's).
    private func readResponse() throws -> Int {
        var filled = 0
        var headerEnd: Int?
        var contentLength = 0
        while true {
            if filled == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + filled, $0.count - filled, 0) }
            guard count > 0 else { throw Failure(description: "connection closed") }
            filled += count
            if headerEnd == nil, let end = Self.find(crlfcrlf, in: buffer, upTo: filled) {
                headerEnd = end + 4
                contentLength = Self.contentLength(buffer[0..<end])
            }
            if let headerEnd, filled >= headerEnd + contentLength {
                guard filled >= 12 else { throw Failure(description: "short response") }
                return Int(buffer[9] - 48) * 100 + Int(buffer[10] - 48) * 10 + Int(buffer[11] - 48)
            }
        }
    }

    private let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    private static func find(_ needle: [UInt8], in haystack: [UInt8], upTo limit: Int) -> Int? {
        guard limit >= needle.count else { return nil }
        for index in 0...(limit - needle.count) where haystack[index] == needle[0] {
            if haystack[index + 1] == needle[1], haystack[index + 2] == needle[2], haystack[index + 3] == needle[3] {
                return index
            }
        }
        return nil
    }

    private static func contentLength(_ head: ArraySlice<UInt8>) -> Int {
        let text = String(decoding: head, as: UTF8.self).lowercased()
        guard let range = text.range(of: "\r\ncontent-length:") else { return 0 }
        let digits = text[range.upperBound...].drop(while: { $0 == " " }).prefix(while: \.isNumber)
        return Int(digits) ?? 0
    }
}
